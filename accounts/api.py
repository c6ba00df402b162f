"""`POST /api/auth/token/` {username, password} -> {token}: throttled per address, refused
for a locked-out login (django-axes), an expired token replaced by a fresh one."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.tokens import token_issue


class TokenRequest(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class TokenResponse(serializers.Serializer):
    token = serializers.CharField()


class AuthThrottle(SimpleRateThrottle):
    """Per client address, in the cache, before any password is checked."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ObtainToken(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = [AuthThrottle]
    serializer_class = TokenRequest

    @extend_schema(request=TokenRequest, responses={200: TokenResponse})
    def post(self, request):
        form = TokenRequest(data=request.data)
        form.is_valid(raise_exception=True)
        # The Django request (not DRF's wrapper), so django-axes can flag a lockout on it.
        user = authenticate(request._request, **form.validated_data)
        if user is None or not user.is_active:
            raise exceptions.ValidationError({"non_field_errors": ["Unable to log in with provided credentials."]})
        return Response({"token": token_issue(user=user).key})
