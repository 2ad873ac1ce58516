"""CloudFront in front of the REST API: repeats answered at the edge (stage setting ``cdn``).

The cache key is the route's query parameters (an allow-list: anything else is neither part of
the key nor forwarded) plus ``Origin`` (CORS answers differ by origin); lifetimes come from the
API's own Cache-Control (min TTL 0, default 0: an answer without one is never kept). The origin
gets the viewer's address (``CloudFront-Viewer-Address``) and a header proving the request came
through this distribution, so per-client rules count the client, not the edge. ``web_acl_arn``:
the distribution's own web ACL (CLOUDFRONT scope, infra/constructs/waf.py). Design:
docs/design/http-caching.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Aws, Duration, Fn
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge
from infra.stages import StageConfig
from musicboxd.api.client_address import EDGE_HEADER, VIEWER_ADDRESS_HEADER

# The viewer headers the API reads (besides those in the cache key). Never Host: API Gateway
# answers only to its own name.
FORWARDED_HEADERS = ("Accept", VIEWER_ADDRESS_HEADER)
CACHE_KEY_HEADERS = ("Origin",)
# CloudFront's default error caching (10 s) would keep a 5xx the API marked no-store.
UNCACHED_ERRORS = (500, 502, 503, 504)
LOG_DAYS = {"dev": 7, "staging": 30, "prod": 90}


def edge_secret() -> str:
    """A value only this stack knows: the unique part of its CloudFormation stack id.

    It is not in the template and cannot be guessed from outside; anyone who can describe the
    stack can read it, which is fine: it only decides whose address the fairness rules count.
    """
    return Fn.select(2, Fn.split("/", Aws.STACK_ID))


class Cdn(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        api: apigw.RestApi,
        query_parameters: Iterable[str],
        secret: str,
        web_acl_arn: str,
    ) -> None:
        super().__init__(scope, id)
        self.query_parameters = tuple(sorted(set(query_parameters)))
        self.cache_policy = cloudfront.CachePolicy(
            self,
            "CachePolicy",
            cache_policy_name=f"{stage.prefix}-api",
            comment="Route query parameters + Origin; lifetimes from the API's Cache-Control",
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list(*self.query_parameters),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list(*CACHE_KEY_HEADERS),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            min_ttl=Duration.seconds(0),
            default_ttl=Duration.seconds(0),
            max_ttl=Duration.days(30),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        self.origin_request_policy = cloudfront.OriginRequestPolicy(
            self,
            "OriginRequestPolicy",
            origin_request_policy_name=f"{stage.prefix}-api",
            comment="The viewer's address and what the API reads; never Host",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*FORWARDED_HEADERS),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.none(),  # the key's only
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
        )
        self.log_bucket = s3.Bucket(
            self,
            "Logs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,  # CloudFront standard logs need ACLs
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(LOG_DAYS.get(stage.name, 30)))],
            removal_policy=stage.removal_policy,
            auto_delete_objects=False,
        )
        acknowledge(
            self.log_bucket,
            "AwsSolutions-S1",
            "This bucket holds the distribution's access logs; logging it to itself would recurse.",
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{stage.prefix} API at the edge",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.RestApiOrigin(api, custom_headers={EDGE_HEADER: secret}),
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=self.cache_policy,
                origin_request_policy=self.origin_request_policy,
                compress=True,
            ),
            error_responses=[
                cloudfront.ErrorResponse(http_status=status, ttl=Duration.seconds(0)) for status in UNCACHED_ERRORS
            ],
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_ipv6=True,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=web_acl_arn,
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "A public music catalog for a worldwide audience: no country is excluded.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The default *.cloudfront.net certificate (no custom domain yet) cannot pin a TLS policy; "
            "with a domain, attach an ACM certificate and TLSv1.2_2021.",
        )

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}/"
