import { Layout } from "./layout.tsx";

/** The sign-in form: an API token of any scope, posted (never in a URL), exchanged for a session cookie. */
export function SignInPage(props: { error?: string; next?: string }) {
  return (
    <Layout title="Sign in">
      <form method="post" action="/signin" class="signin">
        {props.error && (
          <div class="notice error" role="alert">
            {props.error}
          </div>
        )}
        <label>
          API token
          <input type="password" name="token" autocomplete="off" required autofocus />
        </label>
        <input type="hidden" name="next" value={props.next ?? "/"} />
        <button type="submit">Sign in</button>
        <p class="hint">
          The bootstrap token (<code>api.token</code>) or one made by <code>fluxrig tokens create</code>. A
          read token sees everything and changes nothing.
        </p>
      </form>
    </Layout>
  );
}
