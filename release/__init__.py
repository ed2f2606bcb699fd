"""`python -m release STACK --revision s3://BUCKET/KEY`: a blue/green release of a stack with
``deployment.style: blue-green`` (see release/README.md)."""
