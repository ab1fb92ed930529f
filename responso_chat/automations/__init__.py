"""Automations on chat tickets, by concern: the catalogue of conditions and actions
(:mod:`.catalogue`), the template sandbox (:mod:`.templating`), rules in words
(:mod:`.describe`), what a rule sees of a ticket (:mod:`.facts`), what it does
(:mod:`.actions`), the job that runs rules (:mod:`.runner`) and what sets it off
(:mod:`.triggers`), the dry run (:mod:`.dry_run`) and the rules' services (:mod:`.rules`)."""
