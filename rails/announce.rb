# frozen_string_literal: true

# Publishes a server announcement for the closure, or schedules it when scheduled_at is in the future.
# stdin: {"text": String, "scheduled_at": ISO 8601 String or null}; stdout: {"id": Integer}
# As the admin UI does (Admin::AnnouncementsController#publish): published at once (so that it can be
# e-mailed right after, rails/distribute_announcement.rb), then the worker that pushes it to the timelines.
require 'json'

input = JSON.parse($stdin.read)
scheduled_at = input['scheduled_at'] && Time.zone.parse(input['scheduled_at'])
scheduled_at = nil if scheduled_at && scheduled_at <= Time.now.utc

announcement = Announcement.create!(text: input.fetch('text'), scheduled_at: scheduled_at, all_day: false)
if scheduled_at.nil?
  announcement.publish!
  PublishScheduledAnnouncementWorker.perform_async(announcement.id)
else
  PublishScheduledAnnouncementWorker.perform_at(scheduled_at, announcement.id)
end

puts({ id: announcement.id }.to_json)
