"""People signing in: a Cognito user pool and the desktops' app client. The authorizer verifies the
pool's tokens (functions/authorize_request) next to API keys, into the same credential.

Convention (ccaas.domain.tenants.credential_from_claims): a user is in exactly one group named as its
role (`admin`, `supervisor`, `agent`, `integration`; the four groups are the pool's, shared by every
tenant); its tenant is the custom attribute `tenant_id` (set when the user is created, immutable), an
agent's id `agent_id`. Only administrators create users (no self sign-up), and the app client may not
write either custom attribute, so nobody moves themselves to another tenant or agent.
"""
from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.function_specs import USER_POOL_CLIENT_ID_ENV, USER_POOL_ISSUER_ENV
from infra.nag import acknowledge

ROLE_GROUPS = ("admin", "supervisor", "agent", "integration")  # ccaas.domain.tenants.Role, one group each
TENANT_ATTRIBUTE = "tenant_id"  # custom:tenant_id in the ID token
AGENT_ATTRIBUTE = "agent_id"  # custom:agent_id


class Identity(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            custom_attributes={
                TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=2, max_len=40, mutable=False),
                AGENT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=64, mutable=True),
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_lowercase=True, require_uppercase=True, require_digits=True,
                require_symbols=True, temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),  # TOTP apps; no SMS role
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
        )
        self.client = self.user_pool.add_client(
            "DesktopClient",
            generate_secret=False,  # desktops and browsers cannot keep a secret
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=True),
            disable_o_auth=True,  # no hosted UI or domain: desktops sign in with SRP / password
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),  # a shift
            enable_token_revocation=True,
            # Users may edit their name only: never custom:tenant_id or custom:agent_id.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
        )
        self.groups = {
            role: cognito.CfnUserPoolGroup(
                self, f"{role.capitalize()}Group", user_pool_id=self.user_pool.user_pool_id, group_name=role,
                description=f"role {role}: exactly one role group per user (the tenant is custom:{TENANT_ATTRIBUTE})",
            )
            for role in ROLE_GROUPS
        }

        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP) rather than required: agents sign in on shared contact-center desktops "
            "where an authenticator per seat is not yet rolled out; tenants that need it enforce TOTP per "
            "user (AdminSetUserMFAPreference), and tokens last 1 h with refresh tokens of one shift (12 h).",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "Essentials tier: Plus (threat protection / adaptive authentication) is billed per monthly "
            "active user and the pool has no self sign-up (administrators create every user), a strong "
            "password policy and optional TOTP; moving to Plus is a per-environment cost decision.",
        )

        CfnOutput(self, "UserPoolIdOutput", value=self.user_pool.user_pool_id).override_logical_id("UserPoolId")
        CfnOutput(self, "UserPoolClientIdOutput", value=self.client.user_pool_client_id).override_logical_id("UserPoolClientId")

    @property
    def issuer(self) -> str:
        """https://cognito-idp.<region>.amazonaws.com/<pool id>: the tokens' `iss`; the JWKS is under it."""
        return self.user_pool.user_pool_provider_url

    @property
    def settings(self) -> dict[str, str]:
        """The authorizer's settings (infra.function_specs: verify_user_tokens)."""
        return {USER_POOL_ISSUER_ENV: self.issuer, USER_POOL_CLIENT_ID_ENV: self.client.user_pool_client_id}
