# frozen_string_literal: true

# Withdraws an announcement the closure made (moving back a stage).
# stdin: {"id": Integer}; stdout: {"deleted": Boolean}
require 'json'

input = JSON.parse($stdin.read)
announcement = Announcement.find_by(id: input.fetch('id'))
if announcement
  UnpublishAnnouncementWorker.perform_async(announcement.id) if announcement.published?
  announcement.destroy!
end

puts({ deleted: !announcement.nil? }.to_json)
