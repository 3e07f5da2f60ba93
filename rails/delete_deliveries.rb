# frozen_string_literal: true

# The Delete deliveries the legacy `tootctl self-destruct` (Mastodon before 4.3) queued that Sidekiq has not
# worked off yet: ActivityPub::DeliveryWorker jobs waiting in a queue, and those in the retry set.
# stdin: {}; stdout: {"enqueued": Integer, "retrying": Integer}
require 'json'
require 'sidekiq/api'

worker = 'ActivityPub::DeliveryWorker'
enqueued = Sidekiq::Queue.all.sum { |queue| queue.count { |job| job.klass == worker } }
retrying = Sidekiq::RetrySet.new.count { |job| job.klass == worker }
puts({ enqueued: enqueued, retrying: retrying }.to_json)
