import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { type DocPath, formatDocPath, type ScenarioProblem } from "./scenario-error.ts";

/**
 * A parsed YAML file that can say where any path of it is written, so that every problem names a line and
 * column. `yaml` keeps each node's offsets; a LineCounter turns them into lines.
 */
export class YamlSource {
  readonly value: unknown;
  readonly problems: ScenarioProblem[];
  readonly #doc: ReturnType<typeof parseDocument>;
  readonly #lines = new LineCounter();

  readonly #text: string;

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.#text = text;
    this.#doc = parseDocument(text, { lineCounter: this.#lines, prettyErrors: true, uniqueKeys: true });
    this.problems = this.#doc.errors.map((error) => {
      const at = error.linePos?.[0] ?? { line: 1, col: 1 };
      return {
        file,
        line: at.line,
        col: at.col,
        path: "(yaml)",
        message: (error.message.split("\n")[0] as string).replace(/ at line \d+, column \d+:?$/, ""),
      };
    });
    this.value = this.problems.length === 0 ? this.#toJS() : undefined;
  }

  /**
   * The document as plain values. `yaml` parses an alias without its anchor (`a: *b`) and throws only when
   * it resolves it: that is a problem of the file, at the alias, not an error of the reader.
   */
  #toJS(): unknown {
    try {
      return this.#doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      const alias = /alias.*?: (.*)$/s.exec((error as Error).message)?.[1]?.trim();
      const at = alias === undefined ? -1 : this.#text.indexOf(`*${alias}`);
      const { line, col } = this.#lines.linePos(Math.max(at, 0));
      this.problems.push({ file: this.file, line, col, path: "(yaml)", message: (error as Error).message });
      return undefined;
    }
  }

  /**
   * A problem at `path`: at the value written there, or at the nearest enclosing node that exists (a
   * missing key is reported where its map is). With `at: "key"`, at the key itself (an unknown key).
   */
  problem(path: DocPath, message: string, at: "value" | "key" = "value"): ScenarioProblem {
    const offset = this.#offset(path, at);
    const { line, col } = this.#lines.linePos(offset);
    return { file: this.file, line, col, path: formatDocPath(path), message };
  }

  #offset(path: DocPath, at: "value" | "key"): number {
    let node: unknown = this.#doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const [i, segment] of path.entries()) {
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
        );
        if (!pair) break;
        if (at === "key" && i === path.length - 1) return rangeStart(pair.key) ?? offset;
        next = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        next = node.items[segment];
      }
      const start = rangeStart(next);
      if (start === undefined) break;
      node = next;
      offset = start;
    }
    return offset;
  }
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | undefined)?.range?.[0];
}
