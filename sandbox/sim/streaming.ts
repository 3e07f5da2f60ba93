// mastodon-streaming stand-in (127.0.0.1:4000): health endpoint; other paths answer like the
// real server does to unauthenticated requests. In self-destruct mode streaming is gone too.
import * as http from "node:http";
import { railsEnv, selfDestructAtStart } from "./common";

const env = railsEnv();
const selfDestruct = selfDestructAtStart(env);
const port = Number(process.env.PORT || 4000);

const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? "/", "http://localhost").pathname;
    if (p === "/api/v1/streaming/health" || p === "/api/v1/streaming/health/") {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end("OK");
        return;
    }
    if (selfDestruct) {
        res.writeHead(410, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: "Gone" }));
        return;
    }
    res.writeHead(401, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: "Missing access token" }));
});
// BIND as upstream's streaming server reads it, else 127.0.0.1.
const bind = process.env.BIND || "127.0.0.1";
server.listen(port, bind, () => process.stdout.write(`Streaming API now listening on ${bind}:${port}\n`));
process.on("SIGTERM", () => {
    server.close();
    process.exit(0);
});
