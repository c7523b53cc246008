"""Outbound campaigns, pure domain: compliance by construction.

Modules
- `models`: Campaign (mode preview | progressive | predictive | agentless, attempt policy with retry rules by
  disposition, stricter calling windows per campaign and per state, blackout dates, abandonment cap),
  ContactListRow (parsed numbers with their candidate time zones, consent flags), Attempt (with the
  CheckResults that allowed it), Disposition, CheckName/CheckResult.
- `lists`: CSV / JSON contact lists → rows + per-line, per-field errors (numbers parsed with `phonenumbers`;
  a cell is a number only when it holds nothing else; a Unicode space is a blank, an invisible format character
  such as a direction mark is dropped) + warnings (a number an earlier row named); each
  number's zones are the row's AND, for a geographic number, the number's own (`number_zones`).
- `zones`: ZIP prefix → state → time zones (multi-zone states keep every zone).
- `compliance`: `check_attempt(...) -> Decision(allowed, checks, next_allowed_at)`, run before EVERY dial;
  the use-case stores `Decision.checks` on the attempt (the audit export), and dials only when `allowed`.
  `pacing_mode` / `abandonment_gate` tell the pacer when a predictive campaign must dial progressively.
- `pacing`: `dials_to_place(mode, PacingState) -> int` (progressive 1 per free agent; predictive binomial
  over-dial with an abandonment controller; agentless rate-limited).
- `messages`: `is_opt_out(text)` (a whole message that is STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT or
  OPT OUT, any case, blanks and punctuation) and `sms_text(message)` (an agentless text with "Reply STOP to
  opt out." appended unless a clause of it already is an opt-out instruction: `tells_how_to_opt_out`).

No boto3, no environment, no clock: instants are passed in (aware datetimes), randomness as random.Random;
history, suppression and consent come in as read-only views (ports implement them over storage).

Which check implements which rule (CheckName → law)
- calling_hours: TCPA 47 CFR 64.1200(c)(1) (no telephone solicitation before 8 am or after 9 pm at the
  called party's location) and FDCPA §805(a)(1), 15 USC 1692c(a)(1) (8 am–9 pm presumed convenient) — in the
  CALLED PARTY's local time, in EVERY zone the number/row may be in (Reg F 1006.6(b)(1)(i): with conflicting
  location information, a time must be convenient in all of them); DST-safe (zoneinfo, instants not wall times).
- tenant_window, blackout_date: the tenant's stricter windows (and state laws stricter than the federal
  window, e.g. weekday or Sunday limits) — only ever narrower than 08:00–21:00 (validated in the model).
- reg_f_7_in_7: Reg F 12 CFR 1006.14(b)(2)(i)(A): at most 7 call attempts per debt within 7 consecutive days
  (rolling 168 h — stricter than calendar days; attempts with consent given directly are excluded,
  1006.14(b)(3)(i); every other attempt counts, including unconnected ones — conservative).
- reg_f_conversation: 12 CFR 1006.14(b)(2)(i)(B): no call within 7 days after a telephone conversation about
  the debt (a right-party-contact attempt, or any conversation the history reports: an inbound call with the
  person, by the row's account or by any of the row's numbers — `AttemptHistory.number_conversations`).
- requested callbacks (disposition callback_requested, `Attempt.callback`): the row's next attempt on that number
  only from the requested time, within CALLBACK_GRACE; there the quiet period of the conversations up to the
  request and the 7-in-7 count are waived (consent given directly, 1006.14(b)(3)(i), while < 7 days old) and
  max_attempts does not count it; every other check applies. Lapsed: the ordinary rules (`pending_callback`).
- suppression: the tenant's internal do-not-call list (47 CFR 64.1200(d)), imported lists (e.g. the
  national registry, 64.1200(c)(2)), and opt-outs by any reasonable means from any channel (agent
  disposition, SMS STOP, API) — honoured for the very next check, also mid-campaign.
- consent: TCPA 47 U.S.C. 227(b)(1)(A)/(B) and 47 CFR 64.1200(a)(1)–(2): prior express consent for calls made
  with an automatic dialer or a prerecorded voice. Required for progressive, predictive and agentless dials;
  an agentless SMS campaign (channel sms) needs the consent for automated TEXTS instead (`consent_channel`).
  Preview is agent-initiated (the agent dials one number by hand after seeing the record): not treated as
  an automated call, no consent required — a conservative reading still applies every other check
  (hours, Reg F, DNC) to preview. A revocation newer than the grant wins.
- abandonment_rate: 47 CFR 64.1200(a)(7): dropped calls ≤ 3 % of calls answered by a person, per campaign
  over a 30-day period; a dropped call plays an identification message within 2 s (`Attempt.
  abandon_message_played`); ring at least 15 s or 4 rings before a no-answer (MIN_RING_S, enforced by the
  dialer/carrier). At or over the cap the pacer must dial progressively: a predictive dial then fails.
- max_attempts, min_gap, retry_rule, campaign_status, number: the campaign's own attempt policy and state;
  an invalid or wrong-party number is never dialed again; a number that did not parse never reaches a row.

`Decision.next_allowed_at` is when the earliest blocking checks clear by themselves (the next 08:00 in the
most restrictive zone, the end of a 7-in-7 window …), so a campaign outside its hours waits instead of failing;
None when a block needs a person (DNC, consent, a paused campaign, caps). Everything is a function of its
inputs: a campaign edited mid-run applies to the next check, and can never re-allow a past attempt.
"""
