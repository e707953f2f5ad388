#!/usr/bin/env python3
"""Transforms template.yaml with SAM's own translator (samtranslator, the code behind CloudFormation's
AWS::Serverless-2016-10-31 transform, installed with SAM CLI) and writes the CloudFormation JSON that
CloudFormation would deploy, for cfn-lint to check (scripts/check-deploy.sh).

It calls the translator as `sam validate` does (samcli.lib.translate.sam_template_validator): SAM CLI's YAML
loader, local CodeUri replaced by an S3 URI, `Translator(...).translate(...)` with the pseudo-parameter
defaults. The one difference is the managed-policy map, which `sam validate` fetches from IAM with the
caller's credentials: here a static map (the template attaches no AWS managed policy by name, every function
names its own Role; a policy name missing from the map fails the transform with its name), so no account is
needed.

usage: transform_template.py [--template template.yaml] [--out FILE] [--parameter Key=Value ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# AWS managed policies the template may name in a SAM `Policies` list (none today). The ARNs are public;
# `aws` is the partition SAM rewrites per Region.
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSLambdaSQSQueueExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaDynamoDBExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
}


def transform(template: Path, parameters: dict[str, str] | None = None, region: str = "us-east-1") -> dict:
    """The CloudFormation template SAM's transform makes of `template` (raises on an invalid template)."""
    import boto3
    from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import IntrinsicsSymbolTable
    from samcli.lib.translate.sam_template_validator import SamTemplateValidator
    from samcli.yamlhelper import yaml_parse
    from samtranslator.parser import parser
    from samtranslator.translator.translator import Translator

    sam_template = yaml_parse(template.read_text())
    # SAM CLI's own preparation (local CodeUri -> a placeholder S3 URI), without its IAM-backed policy loader.
    prep = SamTemplateValidator.__new__(SamTemplateValidator)
    prep.sam_template = sam_template
    prep._replace_local_codeuri()
    values = dict(IntrinsicsSymbolTable.DEFAULT_PSEUDO_PARAM_VALUES)
    values["AWS::Region"] = region
    values.update(parameters or {})
    translator = Translator(
        managed_policy_map=None,
        sam_parser=parser.Parser(),
        plugins=[],
        boto_session=boto3.session.Session(region_name=region),
    )
    return translator.translate(
        sam_template=prep.sam_template,
        parameter_values=values,
        get_managed_policy_map=lambda: MANAGED_POLICIES,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    ap.add_argument("--out", type=Path, default=ROOT / ".cache" / "deploy" / "template.transformed.json")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    from samtranslator.model.exceptions import InvalidDocumentException

    try:
        cfn = transform(args.template, dict(p.split("=", 1) for p in args.parameter), args.region)
    except InvalidDocumentException as e:
        print(f"SAM transform refused {args.template}:", file=sys.stderr)
        for cause in e.causes:
            print(f"  - {cause.message}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(cfn, indent=1, sort_keys=True))
    kinds: dict[str, int] = {}
    for res in cfn["Resources"].values():
        kinds[res["Type"]] = kinds.get(res["Type"], 0) + 1
    if any(r["Type"].startswith("AWS::Serverless::") for r in cfn["Resources"].values()):
        print("the transform left AWS::Serverless resources behind", file=sys.stderr)
        return 1
    print(f"transformed: {len(cfn['Resources'])} CloudFormation resources -> {args.out}")
    print("  " + ", ".join(f"{n} {t.split('::', 1)[1]}" for t, n in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
