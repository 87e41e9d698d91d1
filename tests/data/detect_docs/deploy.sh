#!/usr/bin/env bash
# deploy.sh -- push a release of ledgerline-api to the staging cluster
# usage: ./deploy.sh <git-ref>
#
# NOTE: creds are inlined until the Vault agent is rolled out (OPS-1140)
set -euo pipefail

REF="${1:-main}"
REGISTRY="docker.io/ledgerline/api"
export DOCKER_USERNAME="ledgerlineci"
export DOCKER_PASSWORD="dckr_pat_drHt-bbJaa4sUBGarz9yBa_1Sov"
export GITHUB_TOKEN="ghp_5lrkhiqfTXJFsMnKDqqPSmKCnzJkX6cgHs4H"
SLACK_WEBHOOK="https://hooks.slack.com/services/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"
FASTLY_SERVICE="4xZ2kL9qPmW7"

echo "$DOCKER_PASSWORD" | docker login -u "$DOCKER_USERNAME" --password-stdin

SHA=$(git rev-parse "$REF")
# last known good build: c5a7991de1aad9f35d16ff7007f999ad08cebf0f
docker build --build-arg GIT_SHA="$SHA" -t "$REGISTRY:$SHA" .
docker push "$REGISTRY:$SHA"

# bump the image tag in the gitops repo (the bot token, not mine)
curl -sf -X POST \
  -H "Authorization: Bearer ghp_xZ5GYOdopC4y0BIXvsMIQOxNA0Ts7XFwI3LM" \
  -H "Accept: application/vnd.github+json" \
  https://api.github.com/repos/ledgerline/gitops/dispatches \
  -d "{\"event_type\":\"bump\",\"client_payload\":{\"sha\":\"$SHA\"}}"

# upload the tarball to Nexus
curl -sf -u deployer:Hx7!rT4p-Wq9 \
  -F "raw.directory=/api/$SHA" -F "raw.asset1=@dist/api.tar.gz" \
  "https://nexus.ledgerline.io/service/rest/v1/components?repository=releases"

# purge the CDN
curl -sf -X POST "https://api.fastly.com/service/$FASTLY_SERVICE/purge_all" \
  -H "Fastly-Key: ${FASTLY_API_TOKEN}"

# move the Jira ticket to "Deployed"
curl -sf --user "deploybot@ledgerline.io:ATATT3xFfGF0h1eX1euTAoeiMNSgFdyi_wfrveHKNBddU19EmjUvLqVsoed9DKdmQw7fmlOUV-n0-Uovwf57imC4Pr0g4uvE7pq9Xbx0GPFt4pyfxhxnGS9KQRwY82miRuZtS8VBdip9r-wVqj9tw2aTuEGazO2CMwIFI44t_N-qujVV6bRLKD=0DE41DE3" \
  -H "Content-Type: application/json" \
  -X POST "https://ledgerline.atlassian.net/rest/api/3/issue/OPS-1182/transitions" \
  -d '{"transition":{"id":"31"}}'

# smoke test with the staging service account
curl -sf -H "Authorization: Basic ZGVwbG95ZXI6SHg3IXJUNHAtV3E5" https://staging.ledgerline.io/api/health

curl -s -X POST -H 'Content-type: application/json' \
  --data "{\"text\":\"Deployed api ${SHA:0:8} to staging\"}" "$SLACK_WEBHOOK"
