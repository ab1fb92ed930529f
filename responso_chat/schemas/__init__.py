"""Marshmallow schemas, one module per audience: every input from a browser or the API passes
one of them. They never import services (services import them).

- :mod:`.common`: the id bound and parser, text checks and base schemas every module shares;
- :mod:`.widget`: what a customer's browser sends;
- :mod:`.inbox`: what agents' pages send;
- :mod:`.chat_form`, :mod:`.automation_rules`, :mod:`.admin`: what admins' pages send;
- :mod:`.api`, :mod:`.api_output`: what JSON API clients send and get back.
"""
