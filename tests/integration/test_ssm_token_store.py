"""The SSM token store against a real (moto) server, shared by two provider "instances"."""

from musicboxd.adapters.dynamo import DynamoLease, make_model
from musicboxd.adapters.ssm import CachedCredentials, SsmTokenStore, ssm_client
from musicboxd.ports import Token
from musicboxd.services.token import TokenProvider


def test_token_shared_across_instances_through_ssm(table_settings):
    s = table_settings
    client = ssm_client(s.aws_region, s.ssm_endpoint_url)
    store = SsmTokenStore(client, s.token_parameter)
    assert store.load() is None
    fetched = []

    def fetch():
        fetched.append(1)
        return Token(f"tok{len(fetched)}", 4_000_000_000.0)

    first = TokenProvider(fetch, store, lease=DynamoLease(make_model(s)))
    second = TokenProvider(fetch, SsmTokenStore(client, s.token_parameter), lease=DynamoLease(make_model(s)))
    assert first.get() == "tok1"
    assert second.get() == "tok1"
    assert fetched == [1]
    param = client.get_parameter(Name=s.token_parameter, WithDecryption=True)["Parameter"]
    assert param["Type"] == "SecureString"
    second.invalidate("tok1")
    assert second.get() == "tok2"
    assert store.load().access_token == "tok2"


def test_garbage_in_parameter_means_no_token(table_settings):
    s = table_settings
    client = ssm_client(s.aws_region, s.ssm_endpoint_url)
    client.put_parameter(Name=s.token_parameter, Value="placeholder", Type="SecureString", Overwrite=True)
    assert SsmTokenStore(client, s.token_parameter).load() is None


def test_client_credentials_from_secure_strings(table_settings):
    from dataclasses import replace

    s = table_settings
    client = ssm_client(s.aws_region, s.ssm_endpoint_url)
    client.put_parameter(Name="/t/id", Value="the-id", Type="SecureString", Overwrite=True)
    client.put_parameter(Name="/t/secret", Value="the-secret", Type="SecureString", Overwrite=True)
    deployed = replace(s, spotify_client_id_parameter="/t/id", spotify_client_secret_parameter="/t/secret")
    assert CachedCredentials(deployed, client).get() == ("the-id", "the-secret")
    local = replace(deployed, spotify_client_id="a", spotify_client_secret="b")
    assert CachedCredentials(local, client).get() == ("a", "b")
