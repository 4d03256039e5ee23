import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { loadConfig, rackConfigSchema } from "../../../shared/config/index.ts";
import { type NatsServer, startNatsServer } from "../../../test/helpers/nats-server.ts";
import { connectSnake } from "./connect.ts";

const run = promisify(execFile);

/** A private CA, a server certificate for 127.0.0.1 and a client certificate it signed, made by openssl. */
async function makeCertificates(dir: string) {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=fluxrig test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  for (const [name, subject, ext] of [
    ["server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"],
    ["client", "/CN=rack-tls-01", "extendedKeyUsage=clientAuth"],
  ] as const) {
    await openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      subject,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    );
    await writeFile(file(`${name}.ext`), `${ext}\n`);
    await openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    );
  }
  return {
    ca: file("ca.pem"),
    server: { cert: file("server.pem"), key: file("server.key") },
    client: { cert: file("client.pem"), key: file("client.key") },
  };
}

function snakeSettings(url: string, extra = "") {
  const text = `[snake]\nurl = "${url}"\nconnect_timeout = "2s"\nreconnect_wait = "50ms"\n${extra}`;
  return loadConfig(rackConfigSchema, { file: { path: "fluxrig.toml", text } }).config.snake;
}

const tlsUrl = (server: NatsServer) => server.url.replace(/^\w+:/, "tls:");

describe("snake over TLS to a nats-server with a private CA", () => {
  let certs: Awaited<ReturnType<typeof makeCertificates>>;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-tls-"));
    certs = await makeCertificates(dir);
    return () => rm(dir, { recursive: true, force: true });
  }, 60_000);

  const serverWith = async (verify: boolean) => {
    const server = await startNatsServer({
      tls: { certFile: certs.server.cert, keyFile: certs.server.key, caFile: certs.ca, verify },
    });
    onTestFinished(() => server.stop());
    return server;
  };

  it("connects with snake.tls_ca_file, encrypted, and does request/reply", async () => {
    const server = await serverWith(false);
    const nc = await connectSnake(snakeSettings(tlsUrl(server), `tls_ca_file = "${certs.ca}"`));
    onTestFinished(() => nc.close());
    nc.subscribe("probe.echo", { callback: (_, msg) => void msg.respond(msg.data) });
    expect((await nc.request("probe.echo", "ping", { timeout: 5_000 })).string()).toBe("ping");
    expect(nc.info?.tls_required).toBe(true);
  });

  it("refuses a server whose certificate no trusted CA signed, naming the TLS settings", async () => {
    const server = await serverWith(false);
    // tls:// without a CA file: the system's roots, which do not hold the test CA.
    await expect(connectSnake(snakeSettings(tlsUrl(server)))).rejects.toThrow(
      /cannot connect to Snake at tls:\/\/.*: TLS: .*\(check snake\.tls_ca_file, snake\.tls_cert_file and snake\.tls_key_file\)/,
    );
  });

  it("shows its client certificate to a server that verifies clients, and is refused without it", async () => {
    const server = await serverWith(true);
    const withCert = `tls_ca_file = "${certs.ca}"\ntls_cert_file = "${certs.client.cert}"\ntls_key_file = "${certs.client.key}"`;
    const nc = await connectSnake(snakeSettings(tlsUrl(server), withCert));
    onTestFinished(() => nc.close());
    await nc.flush();

    await expect(connectSnake(snakeSettings(tlsUrl(server), `tls_ca_file = "${certs.ca}"`))).rejects.toThrow(
      /cannot connect to Snake at tls:.*: the server requires a client certificate \(tls verify\): set snake\.tls_cert_file and snake\.tls_key_file/,
    );
  });

  it("refuses a config with a client certificate but no key, naming the key", () => {
    expect(() => snakeSettings("tls://127.0.0.1:4222", `tls_cert_file = "${certs.client.cert}"`)).toThrow(
      /snake\.tls_key_file.*tls_cert_file is set: a client certificate needs its key/s,
    );
  });
});
