"""SSM parameters: Spotify client id/secret (SecureString, set by ops) and the token cache.

CloudFormation cannot create SecureString parameters, so the stack only *names* them:
ops put the client id/secret once (README), and the token parameter is written by the
code itself (``ssm:PutParameter`` Type SecureString, Overwrite). Grants are on exactly
these ARNs and only for the calls the code makes.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.stages import StageConfig


class SpotifyParameters(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, id)
        prefix = stage.parameter_prefix
        self.client_id_name = f"{prefix}/spotify/client-id"
        self.client_secret_name = f"{prefix}/spotify/client-secret"
        self.token_name = f"{prefix}/spotify/token"
        stack = Stack.of(self)

        def arn(name: str) -> str:
            return stack.format_arn(
                service="ssm",
                resource="parameter",
                resource_name=name.lstrip("/"),
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )

        self.client_id_arn = arn(self.client_id_name)
        self.client_secret_arn = arn(self.client_secret_name)
        self.token_arn = arn(self.token_name)

    def environment(self) -> dict[str, str]:
        """Env vars read by musicboxd.config.Settings.from_env."""
        return {
            "SPOTIFY_CLIENT_ID_PARAMETER": self.client_id_name,
            "SPOTIFY_CLIENT_SECRET_PARAMETER": self.client_secret_name,
            "TOKEN_PARAMETER": self.token_name,
        }

    def grant(self, grantee: iam.IGrantable) -> None:
        """The calls of musicboxd.adapters.ssm: GetParameters (both credentials in one call),
        GetParameter + PutParameter (the shared token). No kms statement: SecureStrings use the
        AWS-managed aws/ssm key, whose key policy already lets every principal of the account
        use it through SSM (kms:ViaService); the function never calls KMS itself."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadSpotifyCredentials",
                actions=["ssm:GetParameters"],
                resources=[self.client_id_arn, self.client_secret_arn],
            )
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadWriteSpotifyToken",
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[self.token_arn],
            )
        )
