import type { Child } from "hono/jsx";
import type { ConsoleSession } from "../../auth/console-session.ts";
import type { ApiResult } from "../console-api.ts";

const NAV = [
  ["/", "Fleet"],
  ["/scenarios", "Scenarios"],
  ["/logs", "Logs"],
  ["/metrics", "Metrics"],
  ["/traces", "Traces"],
  ["/flux", "Flux"],
] as const;

/** Every page's frame: navigation, who is signed in with which scope, and the console's own assets. */
export function Layout(props: { title: string; session?: ConsoleSession; active?: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · fluxrig`}</title>
        <link rel="stylesheet" href="/assets/console.css" />
        <link rel="stylesheet" href="/assets/uplot.css" />
        <script src="/assets/uplot.js" defer />
        <script src="/assets/console.js" defer />
      </head>
      <body>
        <header>
          <strong class="brand">fluxrig</strong>
          {props.session && (
            <nav>
              {NAV.map(([href, label]) => (
                <a href={href} class={props.active === label ? "active" : undefined}>
                  {label}
                </a>
              ))}
            </nav>
          )}
          {props.session && (
            <form method="post" action="/signout" class="who">
              <span>
                {props.session.caller.name} ({props.session.caller.scope}) · times in UTC
              </span>
              <input type="hidden" name="csrf" value={props.session.csrf} />
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** The API refused or failed: said plainly, with what it said, never a blank page. */
export function Problem(props: { result: Extract<ApiResult<unknown>, { ok: false }> }) {
  const { result } = props;
  return (
    <div class="notice error" role="alert">
      <strong>
        {result.status} {result.title}
      </strong>
      {result.detail && <p>{result.detail}</p>}
      {result.retryAfter && <p>Try again in {result.retryAfter} s.</p>}
    </div>
  );
}

/** A `truncated` answer is shown as such, with the bound that cut it. */
export function Truncated(props: { answer: { truncated?: boolean; truncated_reason?: string } }) {
  if (!props.answer.truncated) return null;
  return (
    <div class="notice warn" data-testid="truncated">
      Partial answer: {props.answer.truncated_reason ?? "a query bound stopped the scan"}.
    </div>
  );
}

/** Nothing to show, said so. */
export const Empty = (props: { children: Child }) => <p class="empty">{props.children}</p>;

/** A button that posts one action with the session's CSRF token, asking first when `confirm` is given. */
export function ActionButton(props: {
  action: string;
  label: string;
  csrf: string;
  confirm?: string;
  danger?: boolean;
}) {
  return (
    <form method="post" action={props.action} class="inline" data-confirm={props.confirm}>
      <input type="hidden" name="csrf" value={props.csrf} />
      <button
        type="submit"
        class={props.danger ? "danger" : undefined}
        data-action={props.label.toLowerCase()}
      >
        {props.label}
      </button>
    </form>
  );
}
