"""SSM parameters: Spotify client id/secret (SecureString, set by ops) and the token cache.

CloudFormation cannot create SecureString parameters, so the stack only *names* them:
ops put the client id/secret once (README), and the token parameter is written by the
code itself (``ssm:PutParameter`` Type SecureString, Overwrite). Grants are on exactly
these ARNs; the AWS-managed ``aws/ssm`` key is usable only through SSM (``kms:ViaService``).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.nag import acknowledge
from infra.stages import StageConfig


class SpotifyParameters(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, id)
        p = stage.parameter_prefix
        self.client_id_name = f"{p}/spotify/client-id"
        self.client_secret_name = f"{p}/spotify/client-secret"
        self.token_name = f"{p}/spotify/token"
        stack = Stack.of(self)
        arn = lambda name: stack.format_arn(  # noqa: E731
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
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadSpotifyCredentials",
                # the code reads both in one GetParameters call
                actions=["ssm:GetParameter", "ssm:GetParameters"],
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
        # SecureString values use the AWS-managed aws/ssm key. Its id differs per account and
        # is not known at synth time, so the key ARN is key/* narrowed by conditions: only
        # through SSM in this region, only for keys of this account.
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SecureStringViaSsmOnly",
                actions=["kms:Decrypt", "kms:Encrypt"],
                resources=[
                    Stack.of(self).format_arn(
                        service="kms",
                        resource="key",
                        resource_name="*",
                        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                    )
                ],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"ssm.{Aws.REGION}.amazonaws.com",
                        "kms:CallerAccount": Aws.ACCOUNT_ID,
                    }
                },
            )
        )
        role = grantee.grant_principal  # its DefaultPolicy holds the statement
        if not isinstance(role, Construct):
            raise TypeError("grant() needs a grantee whose principal is a role in this app")
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]",
            "SecureString parameters use the AWS-managed aws/ssm key, whose key id is per account "
            "and unknown at synth time; kms:ViaService=ssm.<region> and kms:CallerAccount limit "
            "the grant to SSM decrypting/encrypting this account's parameters.",
        )
