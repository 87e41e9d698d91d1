"""Sign service-to-service JWTs (RS256) for the claims pipeline.

The key below is the *staging* signing key; prod loads it from KMS.
"""
import time
import uuid

import jwt  # PyJWT 2.8

ISSUER = "https://auth.harborview-health.org"
KEY_ID = "stg-2024-02"

SIGNING_KEY = """\
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA05j2REYl12DILiOx9eerJEG2Q2rLAMNUpFdagdbjBvmxgCO/
kEcgCg8/EvmgCfAEzGbkwfUkW+4JhDNzeIAzDMFPmY4EU6yKWrgo6K8PWJNzyULO
BOlzqIp67zWkpEpZvhw7sQl99dokkwPExUGkZ4Ds56wZgAVQHnfHxujiTx33Apb9
ZIMRPaLVBDtvz4HcdRmJVu1oIWMW1QHXYUFAW7nGKzn5XQhh2L2romrwFsbBRGZb
OauR3Y7zM76+xCbE2kfrgu21RXTM1SMlmTZI6bs4sSidkGFDBGo7zg6LifwTpAjZ
xW9kDbP1BIqQ/d1rIu2rVFnPhJR+jz7gcmlZlwIDAQABAoIBACHaRgQUSPeVR1GC
anVSFCJf1P4iNsovdfo484T0USwLhKdgkMRPbMPPPqMVhtIwMURWbeDODHwcsC8T
YDT2JbSztL13aB/O6e+rqPfZEhZ0uMCJTJailttvFE3zAh06u/LbZ31ibGGJ/fH7
V17LqrbYfI5wDUBbGT9WoIKlPZe0g/jHU/XqEmXd4892qD8ncKWcspnpQ+u9WOUe
YGKcz26bcFmvKNvRyhDeptEKc87Z2tryce+0D70geFK5LW+KSFb1wasoCyXeyPKs
6c71hpn5oCGJpBkevs6MYE+qVuqWKHOkRUsD8d0ynPCzoAtP5Olr3BpxV15Lwo3S
Zv/GJGECgYEA9osiSQwhVKtbshjVKr9FSOLe5/ZHNH8bG+o4FIr4ndMq3YwmReuM
jhgZ9dIdnMrcqpI7kiuL4EY6cc7UFa0XRaJQnJfM4GURXId1kO93miIOM/4AWjMD
JyuqXsNSvRGxeu4g+7wUMshmBP0a0RBboO0skwHn7o1NypuUA+/2ctECgYEA27av
gRDqdSgWHgcZnHPJoa6qQR2Oyn/Mqimguu00lqH6b+HRQJE7nccE2BOcJLQnYStJ
Z9okfiqy71V/ftuKp0ExYNFBJpLxa9L3q8N4kjnD93ZkT4FWAScrLKkzbg2253se
gvVg1eD32BHGaF/GS5TuyeQZTYDOs+nHs2nVj+cCgYEAo45X12fxsK7hbPwmZm5v
c1P2lqH+SOhNvq4aOB6dom4VkNZKCbajDx0UE80pkfvOemX6mRTEfat5WEjiz+J9
fteYbNoTs4W5B85hgx4qFRmknH9UEoKnA9Rm+OjROdbEDA5v2TDDoZDqhUK4CJu2
fcL6ACiSieI6CkA96ILH1xECgYBv5nEoSNdAZ/Qrwu32UrpkkDLCCy3IUKKKH71u
tpTMCx8jkF0kh1NXnh8HdaVWxDIyOPuf2ugvIcwUPPU8RNAvMvLVHn4SCVDP25is
cFeeEbGO/UtFete0qqBAlMROzslSx8/YXuS8yWExOIxWaED0CZw8UuHYKTwdQXmm
FMbiDQKBgDj0go3kDtci5gimq/geAtL5q54UYWq8VTXRT0gLMMCvpXswhhCQrys3
ivyBjTTX0oTLbPfXjQNYMfieujHe2lsvPD/Y4mXQoy0jO9VBQJdFiqf43wgBUKkh
cTR/WoWy2SPqgRy5UCeskgxEgVZB8jl/IsigH94NUcYDdiGWaL3d
-----END RSA PRIVATE KEY-----
"""

# public half, for reference (also served at /.well-known/jwks.json)
PUBLIC_KEY_FINGERPRINT = "SHA256:2b1f6c9a0e8d7f3b5c4a1e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b"


def mint(subject: str, scope: str, ttl: int = 300) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "scope": scope,
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, SIGNING_KEY, algorithm="RS256", headers={"kid": KEY_ID})


if __name__ == "__main__":
    print(mint("svc-claims-sync", "claims:write"))
