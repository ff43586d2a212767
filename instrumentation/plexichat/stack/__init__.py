"""The whole stack on one machine, without containers: ``plexichat-obs up``, and the tools that
read it: ``status`` (the guide's table, live), ``snapshot`` (dashboards as PNGs), ``receive``
(the webhook receiver Alertmanager notifies) and ``fault`` (the service's runtime fault switch).

``up`` runs Debian's ``redis-server``, ``prometheus-redis-exporter``, ``prometheus`` and
``prometheus-alertmanager`` (and ``prometheus-postgres-exporter`` when the service uses PostgreSQL,
``prometheus-node-exporter`` with ``--node-exporter``), and our service, receiver and load
generator, as child processes on loopback, with the Prometheus and Alertmanager configuration built
by the same code as the Compose and Helm bundles' (``plexichat.generate.stack``). Modules, one noun
each: ``binaries`` (which program, which Debian package), ``ports``, ``layout`` (the state
directory), ``state`` (what runs, and the lock), ``process`` (one child), ``components`` (what each
child is), ``supervisor`` (``up``), ``view`` (what ``up`` prints), ``postgres_source``
(postgres_exporter's data source, also ``plexichat-obs postgres-source``), ``faults``, ``receiver``
and ``notifications``, ``prometheus_api``, ``status``/``status_view``/``status_command``,
``snapshot/``. Needs the ``stack`` extra (rich, matplotlib, and the generators); ``postgres_source``
only SQLAlchemy.
"""
