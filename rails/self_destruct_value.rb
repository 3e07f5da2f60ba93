# frozen_string_literal: true

# The SELF_DESTRUCT value of Mastodon 4.3+ (what `tootctl self-destruct` prints after its confirmations;
# checked by SelfDestructHelper). The closure keeps it as a Pulumi secret.
# stdin: {}; stdout: {"value": String}
require 'json'

domain = Rails.configuration.x.local_domain
puts({ value: Rails.application.message_verifier('self-destruct').generate(domain) }.to_json)
