# frozen_string_literal: true

# What Sidekiq has still to deliver: ActivityPub::DeliveryWorker jobs by the activity they carry (the Deletes
# the legacy `tootctl self-destruct` queued before Mastodon 4.3; the Move of an account that moved away),
# waiting in a queue or in the retry set; and ActivityPub::MoveDistributionWorker jobs not run yet (each one
# queues a Move per inbox of the account's followers). A job a worker holds at this moment is not counted.
# stdin: {}; stdout: {"delete": {"queued": Integer, "retrying": Integer}, "move": {"queued": Integer, "retrying": Integer}, "move_distributions": Integer}
require 'json'
require 'sidekiq/api'

counts = %w(Delete Move).index_with { { queued: 0, retrying: 0 } }
move_distributions = 0
# A delivery's first argument is the signed activity, as JSON.
activity_of = lambda do |job|
  JSON.parse(job.args.first)['type']
rescue JSON::ParserError, TypeError
  nil
end
tally = lambda do |jobs, key|
  jobs.each do |job|
    case job.klass
    when 'ActivityPub::DeliveryWorker' then counts[activity_of.call(job)]&.then { |c| c[key] += 1 }
    when 'ActivityPub::MoveDistributionWorker' then move_distributions += 1
    end
  end
end

Sidekiq::Queue.all.each { |queue| tally.call(queue, :queued) }
tally.call(Sidekiq::RetrySet.new, :retrying)

puts({ delete: counts['Delete'], move: counts['Move'], move_distributions: move_distributions }.to_json)
