// sandbox start|stop|list — command line around sandbox/client.ts
import { listSandboxes, startSandbox, stopSandbox, StartOptions } from "./client";

function usage(): never {
    process.stderr.write(
        "usage: sandbox start [--name N] [--accounts N] [--mastodon-version V] [--sidekiq-tick-ms M] [--rails-boot-ms M] [--object-storage]\n" +
            "                     [--listen-on-network] [--proxy-for ADDRESS] [--compose]\n" +
            "                     [--database-server] [--database-on NAME]\n" +
            "       sandbox stop NAME | --all\n       sandbox list\n",
    );
    process.exit(2);
}

async function main(argv: string[]): Promise<void> {
    const cmd = argv[0];
    if (cmd === "start") {
        const o: StartOptions = {};
        for (let i = 1; i < argv.length; i++) {
            const [flag, inline] = argv[i].split("=", 2);
            const val = () => (inline !== undefined ? inline : (argv[++i] ?? usage()));
            if (flag === "--object-storage") {
                o.objectStorage = true;
                continue;
            }
            if (flag === "--listen-on-network") {
                o.listenOnNetwork = true;
                continue;
            }
            if (flag === "--compose") {
                o.deployment = "compose";
                continue;
            }
            if (flag === "--database-server") {
                o.databaseServer = true;
                continue;
            }
            switch (flag) {
                case "--name":
                    o.name = val();
                    break;
                case "--accounts":
                    o.accounts = Number(val());
                    break;
                case "--mastodon-version":
                    o.mastodonVersion = val();
                    break;
                case "--sidekiq-tick-ms":
                    o.sidekiqTickMs = Number(val());
                    break;
                case "--rails-boot-ms":
                    o.railsBootMs = Number(val());
                    break;
                case "--proxy-for":
                    o.proxyFor = val();
                    break;
                case "--database-on":
                    o.databaseOn = val();
                    break;
                default:
                    usage();
            }
        }
        const sb = await startSandbox(o);
        const i = sb.info;
        process.stdout.write(
            [
                `sandbox ${i.name} is up (Mastodon ${i.mastodonVersion}, ${i.domain})`,
                `  ssh:      ssh -i ${i.sshPrivateKeyPath} -o UserKnownHostsFile=${i.root}/client/known_hosts ${i.sshUser}@${i.address}`,
                `  host key: ${i.hostKey}`,
                `  url:      https://${i.domain}/  (curl -k --resolve ${i.domain}:443:${i.address} https://${i.domain}/)`,
                `  database: mastodon_production, role mastodon, password ${i.dbPassword} (127.0.0.1:5432 inside; e.g. ssh -L 15432:127.0.0.1:5432)`,
                ...(i.databaseOn
                    ? [`            on the database sandbox ${i.databaseOn.name}, at ${i.databaseOn.address}:5432 (DB_HOST in .env.production)`]
                    : []),
                ...(i.databaseServer ? [`            listening on ${i.address}:5432 too, for the Mastodon sandbox started with --database-on ${i.name}`] : []),
                ...(i.objectStorage
                    ? [`  bucket:   ${i.objectStorage.bucket} at ${i.objectStorage.endpoint} (S3, signed requests only; key in info.json)`]
                    : []),
                `  info:     ${i.root}/info.json`,
                `  stop:     sandbox/sandbox stop ${i.name}`,
                JSON.stringify(i),
                "",
            ].join("\n"),
        );
        return;
    }
    if (cmd === "stop") {
        const names = argv[1] === "--all" ? listSandboxes() : argv.slice(1);
        if (names.length === 0 && argv[1] !== "--all") usage();
        for (const n of names) {
            await stopSandbox(n);
            process.stdout.write(`sandbox ${n} removed\n`);
        }
        return;
    }
    if (cmd === "list") {
        for (const n of listSandboxes()) process.stdout.write(n + "\n");
        return;
    }
    usage();
}

main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
});
