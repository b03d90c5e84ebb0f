"""The application layer: every user action, once.

One module per area (``vacancies``, ``candidates``, ``outcomes``, ``graduates``, ``placements``,
``skill_gaps``, ``admin``), one typed function per action. Each takes a
:class:`~service.usecases.context.Context`
(the session, the signed-in principal, the running services) and returns a typed result with the details
already joined. It owns the access rule (roles and tenancy), the limits, the audit, the serving snapshot and
the commit. API routes (``service/api/routes``) and web pages (``service/web/pages``) only translate HTTP to
a call here and its result back; the CLI and the benchmarks call the same functions.

Errors are domain exceptions (:mod:`service.usecases.errors` and the store's), mapped to an HTTP status
once in ``service/api/errors.py`` and to a page once in ``service/web``.
"""
