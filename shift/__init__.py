"""The traffic shift: move the users from Azure to AWS by the weights of two DNS records.

``python -m shift STACK`` (``migrate/README.md``). One module per concern:

* ``target``: what the shift acts on (zone, record, load balancer, target group, health check),
  from the stack file, ``pulumi stack output`` and options;
* ``dnsrecords``: the two weighted records in Route 53 (read, UPSERT both at once, wait INSYNC);
* ``gates``: the health gates checked after every step;
* ``ramp``: the steps, resuming from the live weights, rolling back on a breach;
* ``progress``: the screen and the append-only log;
* ``access``: the AWS calls it makes (the IAM actions its caller needs);
* ``cli``, ``command``, ``options``: the command line;
* ``wallclock``: time, injectable so the tests do not sleep.
"""
