"""Reports for admins: conversations, response and resolution times, ratings, busiest hours
and agents over a date range, computed by the database (:mod:`.figures`), drawn as SVG
(:mod:`.charts`) and exported as CSV (:mod:`.export`)."""
