from worker.jobs import archive, notify, reports

HANDLERS = {
    "archive_day": archive.archive_day,
    "notify_followers": notify.notify_followers,
    "partner_report": reports.partner_report,
}
