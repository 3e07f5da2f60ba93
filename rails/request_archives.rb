# frozen_string_literal: true

# Requests an archive for every confirmed user of an unsuspended local account that has none requested
# within recent_days, in one Rails boot (what `tootctl accounts backup USERNAME` does, for everyone).
# stdin: {"recent_days": Integer}; stdout: {"requested": Integer, "skipped": Integer}
require 'json'

input = JSON.parse($stdin.read)
since = input.fetch('recent_days').to_i.days.ago
requested = 0
skipped = 0

User.confirmed.joins(:account).merge(Account.without_suspended).find_each do |user|
  if user.backups.exists?(['created_at > ?', since])
    skipped += 1
  else
    backup = user.backups.create!
    BackupWorker.perform_async(backup.id)
    requested += 1
  end
end

puts({ requested: requested, skipped: skipped }.to_json)
