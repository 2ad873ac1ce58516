"""REST API (API Gateway v1) built from ``musicboxd.routes.ROUTES``: new routes need no infra change."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge
from infra.stages import StageConfig
from musicboxd.routes import Route

# Query-string parameters API Gateway validates before invoking Lambda (True = required).
# The handlers validate ranges/formats themselves; this only rejects requests that can never
# succeed without paying for an invocation. Routes not listed here accept any query string.
QUERY_PARAMETERS: Mapping[str, Mapping[str, bool]] = {
    "/search": {"q": True, "limit": False, "offset": False},
    "/suggest": {"q": True, "limit": False},
    "/stats": {"hours": False},
}

CORS_HEADERS = ["Content-Type", "Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Api-Key"]
EXPOSE_HEADERS = ["X-Cache", "Retry-After"]

# Every answer API Gateway gives itself (before/around Lambda) in the service's error envelope,
# with CORS headers, and the codes the handlers and the local API emulation use:
# (response type, HTTP status, code, message; None = API Gateway's own message).
# Every ResponseType is listed; DEFAULT_4XX/5XX catch any type API Gateway adds later.
GATEWAY_ERRORS: tuple[tuple[apigw.ResponseType, str, str, str | None], ...] = (
    (apigw.ResponseType.BAD_REQUEST_PARAMETERS, "400", "bad_request", None),
    (apigw.ResponseType.BAD_REQUEST_BODY, "400", "bad_request", None),
    (apigw.ResponseType.UNAUTHORIZED, "401", "unauthorized", None),
    (apigw.ResponseType.ACCESS_DENIED, "403", "forbidden", None),
    (apigw.ResponseType.INVALID_SIGNATURE, "403", "forbidden", None),
    (apigw.ResponseType.EXPIRED_TOKEN, "403", "forbidden", None),
    (apigw.ResponseType.INVALID_API_KEY, "403", "forbidden", None),
    (apigw.ResponseType.WAF_FILTERED, "403", "forbidden", None),
    # An unsigned call of an AWS_IAM route (/stats) and an unknown path or method get this
    # same answer from API Gateway; "Missing Authentication Token" would mislead either way.
    (
        apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
        "403",
        "forbidden",
        "no such route, or the route needs a SigV4-signed request",
    ),
    (apigw.ResponseType.RESOURCE_NOT_FOUND, "404", "not_found", None),
    (apigw.ResponseType.REQUEST_TOO_LARGE, "413", "request_too_large", None),
    (apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, "415", "unsupported_media_type", None),
    (apigw.ResponseType.THROTTLED, "429", "throttled", None),
    (apigw.ResponseType.QUOTA_EXCEEDED, "429", "quota_exceeded", None),
    (apigw.ResponseType.INTEGRATION_FAILURE, "502", "bad_gateway", None),
    (apigw.ResponseType.INTEGRATION_TIMEOUT, "504", "upstream_timeout", None),
    (apigw.ResponseType.API_CONFIGURATION_ERROR, "500", "server_error", None),
    (apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR, "500", "server_error", None),
    (apigw.ResponseType.AUTHORIZER_FAILURE, "500", "server_error", None),
    (apigw.ResponseType.DEFAULT_4_XX, "400", "bad_request", None),
    (apigw.ResponseType.DEFAULT_5_XX, "502", "bad_gateway", None),
)


def error_template(status: str, code: str, message: str | None) -> str:
    """The envelope as a gateway-response mapping template ($context.error.messageString is quoted)."""
    text = json.dumps(message) if message else "$context.error.messageString"
    return f'{{"error":{{"status":{status},"code":"{code}","message":{text}}}}}'


ACCESS_LOG_FORMAT = apigw.AccessLogFormat.json_with_standard_fields(
    caller=True,
    http_method=True,
    ip=True,
    protocol=True,
    request_time=True,
    resource_path=True,
    response_length=True,
    status=True,
    user=True,
)


def path_parameters(path: str) -> list[str]:
    return re.findall(r"{([^}+]+)\+?}", path)


class RestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        routes: Iterable[Route],
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, id)
        routes = tuple(routes)
        origin = stage.web_origin
        logging = stage.api_cloudwatch_role
        self.access_logs = (
            logs.LogGroup(self, "AccessLogs", retention=stage.log_retention, removal_policy=stage.removal_policy)
            if logging
            else None
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{stage.prefix}-api",
            description="Musicboxd album catalog: search and album pages from the cache",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Access/execution logs need the account-wide API Gateway CloudWatch role, which a
            # new account lacks: created here (role + AWS::ApiGateway::Account, retained so
            # another stage's logging survives this stack's deletion), or logging off.
            cloud_watch_role=logging,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if logging else None,
            deploy_options=apigw.StageOptions(
                stage_name=stage.name,
                throttling_rate_limit=stage.throttle_rate,
                throttling_burst_limit=stage.throttle_burst,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs) if self.access_logs else None,
                access_log_format=ACCESS_LOG_FORMAT if logging else None,
                logging_level=apigw.MethodLoggingLevel.ERROR if logging else apigw.MethodLoggingLevel.OFF,
                data_trace_enabled=False,  # would log request/response bodies
                metrics_enabled=True,
                tracing_enabled=True,
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[origin],
                allow_methods=sorted({r.method for r in routes} | {"OPTIONS"}),
                allow_headers=CORS_HEADERS,
                expose_headers=EXPOSE_HEADERS,
                max_age=Duration.hours(1),
            ),
        )
        self.validator = self.api.add_request_validator(
            "QueryValidator",
            request_validator_name="query-and-path-parameters",
            validate_request_parameters=True,
            # GET-only API: no bodies or models today; body validation is on for future routes.
            validate_request_body=True,
        )
        for response_type, status, code, message in GATEWAY_ERRORS:
            self.api.add_gateway_response(
                f"Gateway{response_type.response_type}",
                type=response_type,
                status_code=status,
                response_headers={
                    "Access-Control-Allow-Origin": f"'{origin}'",
                    "Access-Control-Expose-Headers": f"'{','.join(EXPOSE_HEADERS)}'",
                },
                templates={"application/json": error_template(status, code, message)},
            )
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        integrations: dict[str, apigw.LambdaIntegration] = {}
        for route in routes:
            if route.function not in integrations:
                integrations[route.function] = apigw.LambdaIntegration(
                    functions[route.function], proxy=True, allow_test_invoke=False
                )
            resource = self.api.root.resource_for_path(route.path)
            params = {f"method.request.path.{p}": True for p in path_parameters(route.path)}
            params |= {
                f"method.request.querystring.{q}": required
                for q, required in QUERY_PARAMETERS.get(route.path, {}).items()
            }
            method = resource.add_method(
                route.method,
                integrations[route.function],
                authorization_type=(apigw.AuthorizationType.IAM if route.iam_auth else apigw.AuthorizationType.NONE),
                request_parameters=params or None,
                request_validator=self.validator if params else None,
            )
            self.methods[(route.method, route.path)] = method
            if route.iam_auth:
                acknowledge(
                    method,
                    "AwsSolutions-COG4",
                    "Operator route authorized with AWS_IAM (SigV4), not end users: no Cognito pool.",
                )
            else:
                for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                    acknowledge(
                        method,
                        rule,
                        "Public read-only catalog route (search/album pages/health/docs) served to "
                        "anonymous web visitors; abuse is bounded by AWS WAF (per-IP rate, IP reputation), "
                        "stage throttling and per-client budget shares.",
                    )

        if logging:
            acknowledge(
                self.api,  # its CloudWatchRole child
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-wide API Gateway logging role: AWS's managed policy is the documented one "
                "for it and API Gateway writes to log groups it names itself, so no narrower ARN exists.",
            )
        else:
            for rule, what in (("AwsSolutions-APIG1", "access"), ("AwsSolutions-APIG6", "execution")):
                acknowledge(
                    self.api.deployment_stage,
                    rule,
                    f"-c api_cloudwatch_role=false: no account-wide API Gateway logging role, so {what} "
                    "logging is off (it would fail the deployment); Lambda logs and metrics remain.",
                )

    @property
    def url(self) -> str:
        return self.api.url
