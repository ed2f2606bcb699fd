"""Azure inventory -> neutral model -> AWS plan -> reports and Pulumi stack config."""
