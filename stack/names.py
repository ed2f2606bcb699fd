"""Names other tools find the stack's resources by: stack outputs, tags and record identifiers.

The Pulumi program exports and sets them; the traffic shift, the rehearsal and the policy pack
read them. One definition here, so a renamed output cannot leave a reader looking for the old
one. The hooks' own tags (state, ``cutover:allow-downtime``) are defined in ``hooks/group.py``
and ``hooks/state.py``: the hooks ship alone to instances and import nothing of the project."""

from __future__ import annotations

# Stack outputs (``pulumi stack output NAME``), in the order the program exports them.
LOAD_BALANCER_DNS_NAME = "loadBalancerDnsName"
AUTO_SCALING_GROUP_NAME = "autoScalingGroupName"
CODEDEPLOY_APPLICATION_NAME = "codeDeployApplicationName"
CODEDEPLOY_DEPLOYMENT_GROUP_NAME = "codeDeployDeploymentGroupName"
REVISION_BUCKET_NAME = "revisionBucketName"
LOG_BUCKET_NAME = "logBucketName"
TARGET_GROUP_ARNS = "targetGroupArns"
VPC_ID = "vpcId"
INSTANCE_ROLE_ARN = "instanceRoleArn"
DEREGISTER_TIMEOUT = "deregisterTimeout"
REGISTER_TIMEOUT = "registerTimeout"
CLASSIC_LOAD_BALANCER_NAME = "classicLoadBalancerName"
QUEUE_URL = "queueUrl"
DEAD_LETTER_QUEUE_URL = "deadLetterQueueUrl"
DATABASE_ENDPOINT = "databaseEndpoint"
DATABASE_SECRET_ARN = "databaseSecretArn"
LOAD_BALANCER_ARN = "loadBalancerArn"
TRAFFIC_ZONE_ID = "trafficZoneId"
TRAFFIC_RECORD_NAME = "trafficRecordName"
TRAFFIC_HEALTH_CHECK_IDS = "trafficHealthCheckIds"
# deployment.style blue-green: what `python -m release` reads (each a map colour -> value).
DEPLOYMENT_STYLE = "deploymentStyle"
COLOUR_GROUP_NAMES = "colourAutoScalingGroupNames"
COLOUR_TARGET_GROUP_ARNS = "colourTargetGroupArns"
COLOUR_DEPLOYMENT_GROUP_NAMES = "colourDeploymentGroupNames"
# The weighted forwards the release changes: listeners' default actions and listener rules.
WEIGHTED_LISTENER_ARNS = "weightedListenerArns"
WEIGHTED_RULE_ARNS = "weightedListenerRuleArns"

# Tags the program puts on every resource, and on each Auto Scaling group the Security Hub
# controls its stack file opts out of (space-separated ids): an opt-out is visible on the
# resource, and the policy pack honours exactly those.
STACK_TAG = "cutover:stack"
ENVIRONMENT_TAG = "cutover:environment"
OPT_OUTS_TAG = "cutover:opt-outs"
# On each group of a blue-green stack: blue or green (the policy pack pairs them by it).
COLOUR_TAG = "cutover:colour"

# Set identifiers of the two weighted records of the move: infra/traffic.py creates them under
# these, the shift finds them by these, and the health-check output is keyed by them.
AZURE_SET_IDENTIFIER = "azure"
AWS_SET_IDENTIFIER = "aws"
