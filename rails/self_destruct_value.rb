# frozen_string_literal: true

# The SELF_DESTRUCT value of Mastodon 4.3+ (what `tootctl self-destruct` prints after its confirmations),
# and whether Mastodon, booted now, is in self-destruct mode (SelfDestructHelper: the value verifies to
# LOCAL_DOMAIN). The closure keeps the value as a Pulumi secret.
# stdin: {}; stdout: {"value": String, "enabled": Boolean}
require 'json'

domain = Rails.configuration.x.local_domain
puts({ value: Rails.application.message_verifier('self-destruct').generate(domain), enabled: SelfDestructHelper.self_destruct? }.to_json)
