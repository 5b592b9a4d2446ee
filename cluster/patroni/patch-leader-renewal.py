#!/usr/bin/env python3
"""Makes Patroni 3.0.0-3.0.2 renew its etcd leader key only while it still holds it.

Patroni before 3.0.3 (Debian bookworm ships 3.0.2) renews the leader key with an unconditional put.
A leader that was frozen (docker pause, a hung VM) past its TTL wakes up still believing it leads,
overwrites the key that the new leader took meanwhile, and takes the cluster back: the new leader
is demoted and rewound, and writes it acknowledged are lost even in synchronous_mode. Patroni 3.0.3
(patroni/patroni#2693) renews with a transaction instead: put if the key still holds our name,
else create it only if nobody holds it; otherwise the renewal fails and this node demotes. This
applies that same transaction to the installed 3.0.x file. Idempotent; a no-op on other versions.
"""
import importlib.util
import sys

MARK = "# pgha: leader renewal is compare-and-set"
OLD = """                try:
                    self._run_and_handle_exceptions(self._client.put, self.leader_path,
                                                    self._name, self._lease, retry=_retry)
                except ReturnFalseException:
                    pass
        return bool(self._lease)
"""
NEW = """                """ + MARK + """ (as Patroni 3.0.3, #2693)
                fields = {'key': base64_encode(self.leader_path), 'value': base64_encode(self._name),
                          'lease': self._lease}
                request_put = {'request_put': fields}
                create = {'request_txn': {'compare': [{'key': fields['key'], 'target': 'CREATE',
                                                       'create_revision': '0'}],
                                          'success': [request_put]}}
                ret = self._run_and_handle_exceptions(
                    self._client.call_rpc, '/kv/txn',
                    {'compare': [{'key': fields['key'], 'target': 'VALUE', 'value': fields['value']}],
                     'success': [request_put], 'failure': [create]}, retry=_retry)
                return bool(ret.get('succeeded')
                            or ret.get('responses', [{}])[0].get('response_txn', {}).get('succeeded'))
        return bool(self._lease)
"""

spec = importlib.util.find_spec("patroni.dcs.etcd3")
if spec is None or spec.origin is None:
    sys.exit("patch-leader-renewal: patroni is not installed")
path = spec.origin
text = open(path, encoding="utf-8").read()
if MARK in text:
    print(f"patch-leader-renewal: {path} is patched already")
elif OLD in text:
    open(path, "w", encoding="utf-8").write(text.replace(OLD, NEW))
    print(f"patch-leader-renewal: {path}: the leader key is renewed with compare-and-set")
else:
    print(f"patch-leader-renewal: {path} has no unconditional renewal (Patroni >= 3.0.3): nothing to do")
