import { DEFAULT_ROUTE, type RouteCondition, routerGearType } from "../../../../shared/gears/router.ts";
import { fieldPath, readField } from "../field-path.ts";
import { defineGear } from "../gear.ts";

type Test = (value: unknown) => boolean;

/** JSON-like equality: numbers, strings, booleans, null by value; lists and maps by content. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return (
    typeof a === "object" &&
    typeof b === "object" &&
    a !== null &&
    b !== null &&
    JSON.stringify(a) === JSON.stringify(b)
  );
}

function compile(condition: RouteCondition): (msg: Parameters<typeof readField>[0]) => boolean {
  const field = fieldPath(condition.field);
  let test: Test;
  if (condition.eq !== undefined) test = (v) => same(v, condition.eq);
  else if (condition.ne !== undefined) test = (v) => !same(v, condition.ne);
  else if (condition.gt !== undefined) test = (v) => typeof v === "number" && v > (condition.gt as number);
  else if (condition.lt !== undefined) test = (v) => typeof v === "number" && v < (condition.lt as number);
  else if (condition.in !== undefined)
    test = (v) => (condition.in as unknown[]).some((item) => same(item, v));
  else if (condition.exists !== undefined) test = (v) => (v !== undefined) === condition.exists;
  else {
    const pattern = new RegExp(condition.matches as string);
    test = (v) => typeof v === "string" && pattern.test(v);
  }
  return (msg) => test(readField(msg, field));
}

/** `router`: the first route whose conditions all hold takes the message; else `default`. */
export const routerGear = defineGear(routerGearType, (ctx) => {
  const routes = ctx.config.routes.map((route) => ({ to: route.to, when: route.when.map(compile) }));
  return {
    process(msg) {
      return ctx.emit(
        routes.find((route) => route.when.every((holds) => holds(msg)))?.to ?? DEFAULT_ROUTE,
        msg,
      );
    },
  };
});
