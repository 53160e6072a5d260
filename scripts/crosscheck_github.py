"""Cross-check of the fake GitHub (ca-fakes github) with PyGithub, a real client nobody here wrote.

Usage: python crosscheck_github.py INFO_JSON   (the line ca-fakes github printed)
Exits non-zero on the first mismatch.
"""
import json
import sys
import time
import urllib.request

from github import Auth, Github, GithubException, RateLimitExceededException

info = json.load(open(sys.argv[1]))
API, TOKEN, REVIEWER = info["apiURL"], info["token"], info["reviewerToken"]
FULL = f'{info["owner"]}/{info["repo"]}'


def check(condition, message):
    if not condition:
        print(f"MISMATCH: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {message}")


gh = Github(base_url=API, auth=Auth.Token(TOKEN), per_page=10, retry=None)
check(gh.get_user().login == "octo", "GET /user gives the token's login")

repo = gh.get_repo(FULL)
check(repo.private and repo.default_branch == "main", "repository is private with default branch main")
check(repo.clone_url == f'{info["serverURL"]}/{FULL}.git', "clone_url points at the fake")
check(repo.get_branch("feature").commit.sha == repo.get_pull(info["pull"]).head.sha, "branch sha equals the PR head sha")

pull = repo.get_pull(info["pull"])
check(pull.user.login == "hubot" and pull.base.ref == "main" and pull.head.ref == "feature", "PR fields")
files = list(pull.get_files())
check(len(files) == 35, f"35 PR files over 4 pages of 10 (got {len(files)})")
app = [f for f in files if f.filename == "src/app.py"][0]
check(app.status == "modified" and app.additions == 4 and app.deletions == 1 and app.patch.startswith("@@"), "src/app.py file entry")
check(pull.changed_files == 35 and pull.commits == 1, "PR counts")

created = repo.create_pull(title="From PyGithub", body="Made by the cross-check", head="topic", base="main")
check(created.number == info["issue"] + 1, "new PR takes the next number of the shared sequence")
check(created.head.ref == "topic" and created.user.login == "octo", "created PR fields")
try:
    repo.create_pull(title="Again", body="", head="topic", base="main")
    check(False, "duplicate PR must fail")
except GithubException as error:
    check(error.status == 422 and "already exists" in json.dumps(error.data), "duplicate PR is a 422 'already exists'")

try:
    pull.create_review(body="Bad", event="COMMENT", comments=[
        {"path": "src/app.py", "line": 2, "side": "RIGHT", "body": "fine"},
        {"path": "src/app.py", "line": 99, "side": "RIGHT", "body": "not in the diff"},
    ])
    check(False, "review with a comment outside the diff must fail")
except GithubException as error:
    check(error.status == 422 and error.data["errors"] == ["Pull request review thread line must be part of the diff"],
          "invalid inline comment rejects the review with 422")
check(pull.get_reviews().totalCount == 0, "nothing stored after the rejected review")

review = pull.create_review(body="Looks good", event="APPROVE", comments=[
    {"path": "src/app.py", "line": 2, "side": "RIGHT", "body": "return 2 now"},
    {"path": "src/app.py", "start_line": 4, "line": 5, "side": "RIGHT", "body": "a range"},
    {"path": "src/app.py", "line": 2, "side": "LEFT", "body": "old line"},
])
check(review.state == "APPROVED" and review.commit_id == pull.head.sha, "review approved on the head commit")
reviews = list(pull.get_reviews())
check([r.body for r in reviews] == ["Looks good"], "reviews list the stored review")
comments = list(pull.get_review_comments())
check([c.body for c in comments] == ["return 2 now", "a range", "old line"], "review comments listed")
check(comments[1].start_line == 4 and comments[2].side == "LEFT", "comment line fields")

hubot = Github(base_url=API, auth=Auth.Token(REVIEWER), retry=None)
try:
    hubot.get_repo(FULL).get_pull(info["pull"]).create_review(body="", event="APPROVE")
    check(False, "approving one's own PR must fail")
except GithubException as error:
    check(error.status == 422, "approving one's own PR is a 422")

issue = repo.get_issue(info["issue"])
check(issue.title == "A bug" and issue.pull_request is None, "issue fields")
check([c.body for c in issue.get_comments()] == ["Steps follow.", "Thanks."], "issue comments")
comment = issue.create_comment("From PyGithub")
check(comment.body == "From PyGithub" and comment.user.login == "octo", "issue comment created")
check(repo.get_issue(info["pull"]).pull_request is not None, "a PR read as an issue has pull_request")

try:
    Github(base_url=API, auth=Auth.Token("ghp_wrong"), retry=None).get_user().login
    check(False, "unknown token must fail")
except GithubException as error:
    check(error.status == 401, "unknown token gives 401 (BadCredentialsException)")

core = gh.get_rate_limit().resources.core
check(core.limit == 5000 and core.remaining < 5000, "rate_limit reports core usage")


def arm(path):
    urllib.request.urlopen(urllib.request.Request(info["serverURL"] + path, method="POST"), timeout=10).read()


arm("/_fake/rate-limit/primary?after=1&reset=2")
try:
    gh.get_repo(FULL)
    check(False, "primary rate limit must fail without retries")
except RateLimitExceededException as error:
    check(error.status == 403 and error.headers.get("x-ratelimit-remaining") == "0", "primary limit raises RateLimitExceededException")

arm("/_fake/rate-limit/primary?after=1&reset=2")
start = time.monotonic()
retrying = Github(base_url=API, auth=Auth.Token(TOKEN))  # default GithubRetry waits for the reset
check(retrying.get_repo(FULL).full_name == FULL, "default retry recovers after the reset")
check(time.monotonic() - start >= 1.0, "the retry waited for x-ratelimit-reset")

arm("/_fake/rate-limit/secondary?count=1&retry_after=1")
try:
    gh.get_repo(FULL)
    check(False, "secondary rate limit must fail without retries")
except GithubException as error:
    check(error.status == 403 and "secondary rate limit" in json.dumps(error.data), "secondary limit is a 403 naming it")

print("PyGithub cross-check passed")
