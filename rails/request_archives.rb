# frozen_string_literal: true

# Requests an archive for every user who can sign in to download it and has none requested within
# recent_days, in one Rails boot (what `tootctl accounts backup USERNAME` does, for everyone): confirmed
# users (the "archive ready" e-mail reaches a verified address) of unsuspended local accounts that are not
# memorials (User#active_for_authentication? refuses those sign-ins, and UserMailer#backup_ready mails none).
# stdin: {"recent_days": Integer}; stdout: {"requested": Integer, "skipped": Integer}
require 'json'

input = JSON.parse($stdin.read)
since = input.fetch('recent_days').to_i.days.ago
requested = 0
skipped = 0

User.confirmed.joins(:account).merge(Account.without_suspended).where(accounts: { memorial: false }).find_each do |user|
  if user.backups.exists?(['created_at > ?', since])
    skipped += 1
  else
    backup = user.backups.create!
    BackupWorker.perform_async(backup.id)
    requested += 1
  end
end

puts({ requested: requested, skipped: skipped }.to_json)
