# frozen_string_literal: true

# E-mails a published announcement to every confirmed user of an unsuspended account, once (Mastodon 4.4+),
# as POST /admin/announcements/:id/distribution does (Admin::Announcements::DistributionsController): the
# same check as AnnouncementPolicy#distribute? (published, not sent yet), then the timestamp and the worker.
# An announcement already sent (by hand, from the admin UI) is not sent again.
# stdin: {"id": Integer}; stdout: {"sent_at": ISO 8601 String, "recipients": Integer, "sent_now": Boolean}
require 'json'

input = JSON.parse($stdin.read)
announcement = Announcement.find(input.fetch('id'))
raise "announcement #{announcement.id} is not published: only a published announcement can be e-mailed" unless announcement.published?

sent_now = !announcement.notification_sent?
if sent_now
  announcement.touch(:notification_sent_at)
  Admin::DistributeAnnouncementNotificationWorker.perform_async(announcement.id)
end

puts({ sent_at: announcement.notification_sent_at.iso8601, recipients: announcement.scope_for_notification.count, sent_now: sent_now }.to_json)
