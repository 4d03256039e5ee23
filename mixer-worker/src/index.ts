import { Hono } from "hono";

/** The mixer Worker: the control plane's HTTP API. Sub-apps per resource are joined here with `app.route()`. */
const app = new Hono();

app.get("/health", (c) => c.json({ status: "ok" }));

export default app;
