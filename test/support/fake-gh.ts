// A stand-in for `gh api`, for the pipeline test: the part of GitHub's REST API the pipeline's scripts call
// (issue and pull-request comments, issues), kept in a JSON file (FAKE_GITHUB_STATE). No GitHub is reachable
// here; what the scripts send is checked by the test against what GitHub would hold. Anything else it is
// asked is refused, so a script calling more of the API fails the test instead of passing unnoticed.
import { readFileSync, writeFileSync } from "node:fs";

export interface FakeComment {
    id: number;
    issue: number;
    body: string;
}

export interface FakeIssue {
    number: number;
    title: string;
    body: string;
    state: "open" | "closed";
    labels: { name: string }[];
    /** Set on the pull requests the test opens: GitHub lists them among the issues too. */
    pull_request?: object;
}

export interface FakeGitHub {
    repository: string;
    nextId: number;
    issues: FakeIssue[];
    comments: FakeComment[];
}

export function readFake(path: string): FakeGitHub {
    return JSON.parse(readFileSync(path, "utf8"));
}

function main(argv: string[]): void {
    const statePath = process.env.FAKE_GITHUB_STATE!;
    if (!process.env.GH_TOKEN) fail("gh: not authenticated (GH_TOKEN is not set)");
    if (argv[0] !== "api") fail(`fake gh: only \`gh api\` is served, not \`gh ${argv.join(" ")}\``);
    let method = "GET";
    let input: unknown;
    const paths: string[] = [];
    for (let i = 1; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--method" || a === "-X") method = argv[++i];
        else if (a === "--input") input = JSON.parse(readFileSync(argv[++i] === "-" ? 0 : argv[i], "utf8"));
        else if (a === "--paginate") continue;
        else if (a.startsWith("-")) fail(`fake gh: option ${a} is not served`);
        else paths.push(a);
    }
    const gh = readFake(statePath);
    const [path, query = ""] = (paths[0] ?? "").split("?");
    const params = new URLSearchParams(query);
    const prefix = `repos/${gh.repository}/issues`;
    if (!path.startsWith(prefix)) fail(`fake gh: ${path} is not under ${prefix}`);
    const rest = path.slice(prefix.length).split("/").filter(Boolean);
    const body = (input ?? {}) as Record<string, any>;
    const issue = (n: string) => gh.issues.find((i) => i.number === Number(n)) ?? fail(`HTTP 404: issue ${n} not found`);
    const out = (value: unknown) => {
        writeFileSync(statePath, JSON.stringify(gh, null, 1));
        process.stdout.write(JSON.stringify(value));
    };
    const route = `${method} ${rest.map((p) => (/^\d+$/.test(p) ? "N" : p)).join("/")}`;
    switch (route) {
        case "GET ":
            return out(
                gh.issues.filter(
                    (i) => (params.get("state") ?? "open") === i.state && (!params.get("labels") || i.labels.some((l) => l.name === params.get("labels"))),
                ),
            );
        case "POST ": {
            const created: FakeIssue = {
                number: gh.nextId++,
                title: body.title,
                body: body.body ?? "",
                state: "open",
                labels: (body.labels ?? []).map((name: string) => ({ name })),
            };
            gh.issues.push(created);
            return out(created);
        }
        case "GET N":
            return out(issue(rest[0]));
        case "PATCH N":
            return out(Object.assign(issue(rest[0]), body.body !== undefined ? { body: body.body } : {}, body.state ? { state: body.state } : {}));
        case "GET N/comments":
            issue(rest[0]);
            return out(gh.comments.filter((c) => c.issue === Number(rest[0])));
        case "POST N/comments": {
            issue(rest[0]);
            const created = { id: gh.nextId++, issue: Number(rest[0]), body: body.body };
            gh.comments.push(created);
            return out(created);
        }
        case "PATCH comments/N": {
            const c = gh.comments.find((c) => c.id === Number(rest[1])) ?? fail(`HTTP 404: comment ${rest[1]} not found`);
            c.body = body.body;
            return out(c);
        }
        default:
            fail(`fake gh: ${method} ${paths[0]} is not served`);
    }
}

function fail(message: string): never {
    process.stderr.write(message + "\n");
    process.exit(1);
}

// Run as `gh` by the pipeline test's shim, which names the state file. (`node --test dist/test/` also runs
// this file, as it runs every file under test/: without the state file it does nothing.)
if (require.main === module && process.env.FAKE_GITHUB_STATE) main(process.argv.slice(2));
