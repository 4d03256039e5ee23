/**
 * Finds the line on which each key of a TOML document is written, so every loaded value can say where it came
 * from. smol-toml gives values, not positions; this walks the document's skeleton (tables, keys, and the extent
 * of values) without interpreting values. It assumes the text already parsed, so it can be lenient.
 *
 * @example locateTomlKeys('[snake]\nurl = "nats://x"\n').get("snake.url") // 2
 */
export function locateTomlKeys(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let pos = 0;
  let line = 1;

  const peek = (offset = 0) => text[pos + offset] ?? "";
  const advance = () => {
    if (text[pos] === "\n") line++;
    pos++;
  };
  const record = (path: string[]) => {
    const key = path.join(".");
    if (!lines.has(key)) lines.set(key, line);
  };
  const skipBlank = (newlines: boolean) => {
    while (pos < text.length) {
      const c = peek();
      if (c === "#") while (pos < text.length && peek() !== "\n") advance();
      else if (c === " " || c === "\t" || c === "\r" || (newlines && c === "\n")) advance();
      else break;
    }
  };
  const readQuoted = (quote: string): string => {
    advance();
    let out = "";
    while (pos < text.length && peek() !== quote) {
      if (quote === '"' && peek() === "\\") {
        advance();
        out += peek();
      } else out += peek();
      advance();
    }
    advance();
    return out;
  };
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipBlank(false);
      const c = peek();
      if (c === '"' || c === "'") parts.push(readQuoted(c));
      else {
        let bare = "";
        while (/[A-Za-z0-9_-]/.test(peek())) {
          bare += peek();
          advance();
        }
        parts.push(bare);
      }
      skipBlank(false);
      if (peek() !== ".") return parts;
      advance();
    }
  };
  const skipValue = (path: string[]) => {
    const c = peek();
    if ((c === '"' || c === "'") && peek(1) === c && peek(2) === c) {
      pos += 3;
      while (pos < text.length && !(peek() === c && peek(1) === c && peek(2) === c)) {
        if (c === '"' && peek() === "\\") advance();
        advance();
      }
      pos += 3;
      while (peek() === c) pos++;
    } else if (c === '"' || c === "'") readQuoted(c);
    else if (c === "[") {
      advance();
      for (;;) {
        skipBlank(true);
        if (peek() === "]" || pos >= text.length) break;
        skipValue(path);
        skipBlank(true);
        if (peek() === ",") advance();
      }
      advance();
    } else if (c === "{") {
      advance();
      for (;;) {
        skipBlank(false);
        if (peek() === "}" || pos >= text.length) break;
        keyValue(path);
        skipBlank(false);
        if (peek() === ",") advance();
      }
      advance();
    } else {
      while (pos < text.length && !/[,\]}\n#\s]/.test(peek())) advance();
    }
  };
  const keyValue = (prefix: string[]) => {
    const path = [...prefix, ...readKey()];
    record(path);
    skipBlank(false);
    if (peek() === "=") advance();
    skipBlank(false);
    skipValue(path);
  };

  let table: string[] = [];
  while (pos < text.length) {
    skipBlank(true);
    if (pos >= text.length) break;
    if (peek() === "[") {
      const arrayTable = peek(1) === "[";
      pos += arrayTable ? 2 : 1;
      table = readKey();
      record(table);
      pos += arrayTable ? 2 : 1;
    } else {
      const before = pos;
      keyValue(table);
      if (pos === before) advance(); // never loop on text this skeleton does not understand
    }
  }
  return lines;
}
