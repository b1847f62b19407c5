"""Money coming into a wallet: top-ups through Alipay and WeChat Pay (docs/psp.md).

- :mod:`.service` -- the ``topups`` rows: create, read, mark failed;
- :mod:`.psp_topups` -- start a PSP payment and settle a verified PSP notice (credit once);
- :mod:`.endpoints` -- ``POST /v1/topups``, ``GET /v1/topups/{id}``;
- :mod:`.callbacks` -- ``POST /v1/callbacks/alipay`` and ``/v1/callbacks/wechat-pay``.
"""
