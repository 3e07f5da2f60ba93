// The policy pack `pulumi preview|up --policy-pack policy/analyzer` runs: every guard rail mandatory.
import { PolicyPack } from "@pulumi/policy";
import { GUARD_RAILS } from "./guard-rails";

new PolicyPack("mastodon-closure-guard-rails", { enforcementLevel: "mandatory", policies: GUARD_RAILS });
