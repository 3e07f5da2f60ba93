import * as pulumi from "@pulumi/pulumi";
import { StepAccess } from "../lib/host/access";
import { HostStep } from "../lib/provider/host-step";
import { announcementText, NoticeInput, reminders } from "../lib/rules/notice";

export interface ClosureNoticeArgs {
    access: StepAccess;
    notice: NoticeInput;
    /** Days before the closing date to publish reminders (default 30, 7, 1). */
    reminderDaysBefore: number[];
    /** When the closure was first announced; reminders already due then are skipped. */
    announcedAt: Date;
    /** Also post the announcement as a public status through the backend at this address (default: not). */
    publicStatusBackend?: string;
    /** E-mail the announcement, once, to every confirmed user of an unsuspended account (4.4+). */
    emailAnnouncement?: boolean;
}

/** The public side of the closure: registrations closed, the announcement, and scheduled reminders. */
export class ClosureNotice extends pulumi.ComponentResource {
    readonly announcementId: pulumi.Output<number>;
    readonly reminderDates: string[];
    /** When the announcement was e-mailed, and to how many users. */
    readonly email?: pulumi.Output<{ sentAt: string; recipients: number }>;

    constructor(name: string, args: ClosureNoticeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mastodon-closure:index:ClosureNotice", name, {}, opts);
        const text = announcementText(args.notice);
        new HostStep(
            "closeRegistrations",
            `${name}-registrations`,
            {
                access: args.access,
                params: { mode: "none" },
                about: "registrations closed (tootctl settings registrations close); the mode found is put back on the way back",
            },
            { parent: this },
        );
        const main = new HostStep(
            "announcement",
            `${name}-announcement`,
            {
                access: args.access,
                params: { text, scheduledAt: null },
                about: "a server announcement, published now (a row in announcements; withdrawn on the way back)",
            },
            { parent: this },
        );
        if (args.emailAnnouncement) {
            const email = new HostStep(
                "announcementEmail",
                `${name}-email`,
                {
                    access: args.access,
                    params: { announcementId: main.result.apply((r) => r.announcementId) },
                    about: "the announcement e-mailed once to every confirmed user of an unsuspended account (Admin::DistributeAnnouncementNotificationWorker); never again, never called back",
                },
                { parent: this, dependsOn: [main] },
            );
            this.email = email.result;
        }
        const due = reminders(args.notice, args.reminderDaysBefore, args.announcedAt);
        for (const r of due) {
            new HostStep(
                "announcement",
                `${name}-reminder-${r.daysBefore}d`,
                {
                    access: args.access,
                    params: { text: r.text, scheduledAt: r.scheduledAt },
                    about: `a reminder announcement, published by Mastodon at ${r.scheduledAt} (${r.daysBefore} day(s) before closing)`,
                },
                { parent: this },
            );
        }
        if (args.publicStatusBackend) {
            new HostStep(
                "publicStatus",
                `${name}-status`,
                {
                    access: args.access,
                    params: { text, domain: args.notice.domain, backend: args.publicStatusBackend },
                    about: "the announcement also posted as a public status of the statusToken's account (deleted on the way back)",
                },
                { parent: this },
            );
        }
        this.announcementId = main.result.apply((r) => r.announcementId);
        this.reminderDates = due.map((r) => r.scheduledAt);
        this.registerOutputs({ announcementId: this.announcementId, reminderDates: this.reminderDates });
    }
}
