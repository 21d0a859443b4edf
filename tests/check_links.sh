#!/bin/sh
# The fleetcap program (capture, upload and the fleet commands) links neither
# the scheduler nor the worker agent; fleetcap-demo links both. The demo is
# the control: it shows the pattern finds what it looks for.
# usage: check_links.sh FLEETCAP FLEETCAP_DEMO
set -eu
daemon=' [TtDdBbRr] (sched_|scheduler_|wk_agent_|wk_journal_|wk_uploader_)'
if ! nm "$2" | grep -Eq "$daemon"; then
	echo "$2: no scheduler or agent symbol found; the check has gone blind" >&2
	exit 1
fi
if nm "$1" | grep -E "$daemon"; then
	echo "$1: links scheduler or agent code (above)" >&2
	exit 1
fi
echo "$1 links neither the scheduler nor the agent"
