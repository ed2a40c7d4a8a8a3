#!/usr/bin/env bash
# The maintainer's loop on GitHub, called by harvest.yml (tested by tests/test_examples.py
# with a local origin and a stub gh):
#
#   review-loop.sh import    before the harvest: apply the review checklist merged on the
#                            default branch, once per version of the file
#   review-loop.sh publish   after the report: reports/ as one commit on the review branch,
#                            and one open pull request for it, opened or updated
#
# The rules that keep a maintainer's work:
# - Only a merged checklist is imported: the one on the default branch as checked out, never
#   a pull request's.
# - Once: the blob id of the checklist imported is kept beside the database (db/review-imported
#   on the harvester-data branch, committed with the database it went into), and a checklist
#   with that id is not imported again. A second import would change nothing, but would list
#   every paper decided since (at a terminal, on the review page) as a conflict each week.
# - A checklist the import refuses (a bad line) stops the run before the harvest: nothing is
#   harvested, committed or opened until it is fixed on the branch.
# - The review branch is rebuilt each week from the default branch and force-pushed, with a
#   lease on the commit it was seen at; no other branch is ever pushed from here (and the
#   review branch may not be the default branch).
# - An open pull request whose branch has a commit by anyone but this job, or whose checklist
#   is not the one this job last wrote there (the `Harvester-Checklist:` trailer), is the
#   maintainer's work in progress: neither it nor its branch is touched, and the job log and
#   summary say so. Merge it and the next run imports it; close it and the next run opens a
#   new one.
# - Both run only on the default branch: a run started by hand on another branch imports
#   nothing and publishes nothing (the review branch has one base).
#
# Environment: GITHUB_REF_NAME (the branch checked out), HARVESTER_DB, GITHUB_OUTPUT,
# GITHUB_STEP_SUMMARY, RUNNER_TEMP as on a runner; DEFAULT_BRANCH (the repository's; else the
# branch checked out), REVIEW_BRANCH (harvester/review), HARVESTER_REPORTS (reports, relative
# to the repository's root); for publish, gh's GH_TOKEN. The bot is whoever
# `git config user.email` names.
set -euo pipefail

BASE_BRANCH=${GITHUB_REF_NAME:?the branch the workflow runs on}
DEFAULT_BRANCH=${DEFAULT_BRANCH:-$BASE_BRANCH}
REVIEW_BRANCH=${REVIEW_BRANCH:-harvester/review}
REPORTS=${HARVESTER_REPORTS:-reports}
CHECKLIST=$REPORTS/review-queue.md
RECORD=$(dirname "${HARVESTER_DB:?the database}")/review-imported
SUMMARY=${GITHUB_STEP_SUMMARY:-/dev/null}
# What the import said, for the pull request's description (the job's temporary folder
# outlives its steps).
NOTES=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/review-import.md

output() { echo "$1=$2" >>"${GITHUB_OUTPUT:-/dev/null}"; }
say() { echo "$*"; echo "$*" >>"$SUMMARY"; }
warn() { echo "::warning::$*"; echo "**Warning:** $*" >>"$SUMMARY"; }

# The checklist's decisions are recorded as made by the person who last changed it on the
# base branch (the one who ticked it, or merged it), not by the runner's account.
reviewer() {
  local bot name
  bot=$(git config user.email)
  name=$(git log --format='%ae%x09%an' -- "$CHECKLIST" |
    awk -F'\t' -v bot="$bot" '$1 != bot { print $2; exit }') || true
  echo "github:${name:-unknown}"
}

checklist_import() {
  local blob code=0 out err
  : >"$NOTES"
  if [ "$BASE_BRANCH" != "$DEFAULT_BRANCH" ]; then
    say "This run is on $BASE_BRANCH: checklists are imported from $DEFAULT_BRANCH only."
    output checklist none
    return 0
  fi
  if ! blob=$(git rev-parse --verify --quiet "HEAD:$CHECKLIST"); then
    say "No $CHECKLIST on $BASE_BRANCH yet: nothing to import."
    output checklist none
    return 0
  fi
  if [ -f "$RECORD" ] && [ "$(cat "$RECORD")" = "$blob" ]; then
    say "$CHECKLIST of $BASE_BRANCH was imported by an earlier run: not imported again."
    output checklist imported
    return 0
  fi
  if [ ! -f "$HARVESTER_DB" ]; then
    say "No database yet: $CHECKLIST of $BASE_BRANCH names no paper it holds; not imported."
    output checklist none
    return 0
  fi
  out=$(mktemp) err=$(mktemp)
  USER=$(reviewer) harvester review import "$CHECKLIST" >"$out" 2>"$err" || code=$?
  cat "$out"
  cat "$err" >&2
  # Exit 1 is also a database that cannot be written: only the summary line says it ran.
  if [ "$code" -gt 1 ] || ! grep -q "^$CHECKLIST: accepted " "$out"; then
    echo "::error::$CHECKLIST of $BASE_BRANCH was not imported (exit $code, above): nothing is" \
      "harvested or committed. Fix the line it names on $BASE_BRANCH, then run the workflow."
    echo "**$CHECKLIST of $BASE_BRANCH was not imported** (exit $code): $(tail -n 1 "$err")" \
      >>"$SUMMARY"
    return "$((code > 0 ? code : 1))"
  fi
  echo "$blob" >"$RECORD"
  {
    echo "Imported \`$CHECKLIST\` as merged on \`$BASE_BRANCH\`: $(sed -n "s|^$CHECKLIST: ||p" "$out")."
    # A conflict keeps the newer decision: the maintainer should know their tick was not
    # applied, and why.
    sed -n 's/^conflict: \(.*\)$/- conflict: \1/p' "$err"
  } >"$NOTES"
  cat "$NOTES" >>"$SUMMARY"
  sed -n 's/^conflict: \(.*\)$/::warning::conflict: \1/p' "$err"
  output checklist imported
}

# Prints the PR number of the open pull request from the review branch, if there is one.
open_pull_request() {
  gh pr list --head "$REVIEW_BRANCH" --base "$BASE_BRANCH" --state open --json number |
    python -c 'import json, sys; prs = json.load(sys.stdin); print(prs[0]["number"] if prs else "")'
}

# Says why the review branch at commit $1 holds someone else's work, or fails if it does not.
maintainers_work() {
  local tip=$1 bot others wrote now
  bot=$(git config user.email)
  [ -n "$(git rev-list "HEAD..$tip")" ] || return 1
  others=$(git log --format='%h %ae %ce' "HEAD..$tip" |
    awk -v bot="$bot" '$2 != bot || $3 != bot { printf "%s%s", sep, $1; sep = ", " }')
  if [ -n "$others" ]; then
    echo "its branch has commits by someone other than this job ($others)"
    return 0
  fi
  wrote=$(git log -1 --format='%(trailers:key=Harvester-Checklist,valueonly)' "$tip" | head -n 1)
  now=$(git rev-parse --verify --quiet "$tip:$CHECKLIST") || now=none
  if [ "$now" != "$wrote" ]; then
    echo "its checklist is not the one this job last pushed"
    return 0
  fi
  return 1
}

publish() {
  local day pr tip reason blob title body url
  if [ "$REVIEW_BRANCH" = "$BASE_BRANCH" ]; then
    echo "::error::REVIEW_BRANCH is $BASE_BRANCH, the branch the workflow runs on: it is" \
      "force-pushed each week, so it must be a branch of its own"
    return 2
  fi
  if [ "$BASE_BRANCH" != "$DEFAULT_BRANCH" ]; then
    say "This run is on $BASE_BRANCH: the review pull request is made by runs on" \
      "$DEFAULT_BRANCH only."
    return 0
  fi
  day=$(date -u +%Y-%m-%d)
  pr=$(open_pull_request)
  tip=$(git ls-remote origin "refs/heads/$REVIEW_BRANCH" | cut -f1)
  if [ -n "$pr" ] && [ -n "$tip" ]; then
    git fetch --quiet origin "refs/heads/$REVIEW_BRANCH"
    if reason=$(maintainers_work "$tip"); then
      warn "pull request #$pr is left as it is: $reason. Its ticks are kept; this week's" \
        "candidates and list wait in the database. Merge it and the next run imports it," \
        "close it and the next run opens a new one."
      output pull-request "$pr"
      return 0
    fi
  fi
  git checkout --quiet -B "$REVIEW_BRANCH"
  # --force: a clone of the project ignores reports/ (generated on development machines).
  git add --all --force -- "$REPORTS"
  if git diff --cached --quiet; then
    say "$REPORTS/ is the same as on $BASE_BRANCH: nothing to review this week."
    return 0
  fi
  blob=$(git rev-parse ":$CHECKLIST")
  git commit --quiet -m "Review: the harvest of $day" -m "Harvester-Checklist: $blob"
  # The lease: a maintainer's push since the look above refuses this push instead of being
  # lost to it.
  git push --quiet --force-with-lease="refs/heads/$REVIEW_BRANCH:$tip" origin \
    "HEAD:refs/heads/$REVIEW_BRANCH"
  title="Review: the harvest of $day"
  body=$(mktemp)
  {
    echo "$(grep -m 1 -o '^[0-9]* papers\{0,1\} waits\{0,1\} for a decision' "$CHECKLIST" ||
      echo "The review queue"), best first, in \`$CHECKLIST\`; the list and reports in" \
      "\`$REPORTS/\` as of this harvest."
    echo
    echo "To review: in *Files changed*, open \`$CHECKLIST\` (*Edit file*), tick \`[x]\` to" \
      "accept, write \`[-]\` or strike the title (\`~~…~~\`) to reject, add lines such as" \
      "\`  - category: system\`, \`  - focus: …\`, \`  - note: …\` or \`  - reason: …\` under" \
      "an item; commit to this branch, then merge. The next run imports the checklist" \
      "before it harvests, and its pull request shows the list with your decisions (run" \
      "the workflow by hand to have it at once)."
    echo
    echo "Once you commit here, later runs leave this pull request as it is until you merge" \
      "or close it. Left untouched, it is replaced by the next week's candidates."
    if [ -s "$NOTES" ]; then
      echo
      cat "$NOTES"
    fi
  } >"$body"
  if [ -n "$pr" ]; then
    url=$(gh pr edit "$pr" --title "$title" --body-file "$body")
    say "Updated pull request #$pr with the harvest of $day: $url"
  else
    url=$(gh pr create --base "$BASE_BRANCH" --head "$REVIEW_BRANCH" --title "$title" \
      --body-file "$body")
    pr=${url##*/}
    say "Opened pull request $url for the harvest of $day."
  fi
  output pull-request "$pr"
}

case ${1:-} in
  import) checklist_import ;;
  publish) publish ;;
  *)
    echo "usage: review-loop.sh import|publish" >&2
    exit 2
    ;;
esac
