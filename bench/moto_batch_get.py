"""What a BatchGetItem item costs through moto server: by attributes returned, not by size.

Why the hourly items keep their data in one attribute and are read with a projection
(``store/metrics.py``): moto server serialises its answer shape by shape, per attribute
value. 2,000 items of five attributes (pk, sk, a 7 KB compressed array, two more) are read
in 100-key batches, whole, with ``ProjectionExpression="sk, week"`` and with ``"week, points"``
(one stored attribute of the two, as ``read_hours`` asks ``"packed, points"`` since a month
names its own key), three times each, in one
process (moto server on a thread, as in the local stack).

    python bench/moto_batch_get.py
"""

from __future__ import annotations

import logging
import os
import time
import zlib
from typing import Any

import boto3
import numpy as np
from moto.server import ThreadedMotoServer

ITEMS = 2000
PORT = 5993


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    server = ThreadedMotoServer(port=PORT)
    server.start()
    try:
        client = boto3.client(
            "dynamodb", endpoint_url=f"http://127.0.0.1:{PORT}", region_name="us-east-1"
        )
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        blob = zlib.compress(np.arange(840.0).tobytes())
        for start in range(0, ITEMS, 25):
            puts = [
                {
                    "PutRequest": {
                        "Item": {
                            "pk": {"S": "p"},
                            "sk": {"S": f"s{i}"},
                            "week": {"B": blob},
                            "n": {"N": "168"},
                            "measures": {"S": "[1,2,3,4,5]"},
                        }
                    }
                }
                for i in range(start, start + 25)
            ]
            client.batch_write_item(RequestItems={"t": puts})
        keys = [{"pk": {"S": "p"}, "sk": {"S": f"s{i}"}} for i in range(ITEMS)]

        def per_item(**options: Any) -> float:
            started = time.perf_counter()
            for start in range(0, ITEMS, 100):
                client.batch_get_item(
                    RequestItems={"t": {"Keys": keys[start : start + 100], **options}}
                )
            return (time.perf_counter() - started) / ITEMS * 1e6

        for _ in range(3):
            whole, two = per_item(), per_item(ProjectionExpression="sk, week")
            one = per_item(ProjectionExpression="week, points")  # as read_hours: one is stored
            print(
                f"5 attributes {whole:,.0f} µs/item · 2 attributes (projection) {two:,.0f} µs/item"
                f" · 1 attribute {one:,.0f} µs/item · ratios {whole / two:.2f}, {two / one:.2f}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
