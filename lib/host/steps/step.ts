// What the closure does on the Mastodon host, one step per concern:
//  - `apply` brings the host to the step's desired state (its params) and is safe to run again: it checks
//    what the host has first, and records nothing as done before the host shows it (a vhost counts once
//    nginx, asked on the host, serves it);
//  - `read` reports what the host has now for what the step owns, as params of the same shape, so that a
//    refresh shows a hand change as drift and the next up repairs it (the live host is the truth);
//  - `undo` puts back what apply changed, where that can be done, and refuses loudly where it cannot.
// One-way steps check their preconditions on the host at the moment they act. Run by the dynamic provider
// (lib/provider/handler.ts), one SSH connection per host per operation. Each step acts on the host of
// its role (roleOfStep in ./index.ts; the Mastodon host unless the settings split the server) and reaches another
// role's host, where it must, through `host.on(role)`.
import { HostAccess } from "../access";
import { RemoteHost } from "../ssh";

export interface Step<P, R> {
    apply(host: RemoteHost, access: HostAccess, params: P, previous?: R): Promise<R>;
    /** What the host has after `apply`, as params, where that can differ from what was asked (a report written
     *  from the host's data at that moment): the state records it, so the next run compares with the host. */
    paramsAfter?(params: P, result: R): P;
    /** What the host has now for what the step owns, as the step's params (and result) would say it. */
    read(host: RemoteHost, access: HostAccess, params: P, result: R): Promise<{ params: P; result: R }>;
    undo(host: RemoteHost, access: HostAccess, params: P, result: R): Promise<void>;
}

/** A read for a step that owns nothing on the host it could read back. */
export const unchanged = async <P, R>(_h: RemoteHost, _a: HostAccess, params: P, result: R) => ({ params, result });
