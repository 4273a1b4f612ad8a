"""A pjsua2 (PyPI pjsua2-python) user agent for tests/tls_srtp.rs: listens for SIP over TLS
on 127.0.0.1, answers every call with mandatory SDES-SRTP, plays a WAV into it and records
what it hears. Prints READY once listening and CALL <state> lines; exits after the call ends
or after the timeout.

usage: uas_tls_srtp.py PORT CERT KEY PLAY.wav RECORD.wav TIMEOUT_S [HANGUP_AFTER_S]

With HANGUP_AFTER_S it hangs up that long after the answer: its BYE goes to our Contact,
which pjsip reaches over the TLS connection hotline opened.
"""

import sys
import time

import pjsua2 as pj

port, cert, key, play, record, timeout = sys.argv[1:7]
hangup_after = float(sys.argv[7]) if len(sys.argv) > 7 else None
confirmed_at = None
done = False
calls = []


class Call(pj.Call):
    def __init__(self, acc, call_id):
        pj.Call.__init__(self, acc, call_id)
        self.player = None
        self.recorder = None

    def onCallState(self, prm):
        global done, confirmed_at
        ci = self.getInfo()
        print("CALL", ci.stateText, flush=True)
        if ci.state == pj.PJSIP_INV_STATE_CONFIRMED:
            confirmed_at = time.time()
        if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            done = True

    def onCallMediaState(self, prm):
        ci = self.getInfo()
        for i, mi in enumerate(ci.media):
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                am = self.getAudioMedia(i)
                if self.player is None:
                    self.player = pj.AudioMediaPlayer()
                    self.player.createPlayer(play, pj.PJMEDIA_FILE_NO_LOOP)
                    self.player.startTransmit(am)
                    self.recorder = pj.AudioMediaRecorder()
                    self.recorder.createRecorder(record)
                    am.startTransmit(self.recorder)
                si = self.getStreamInfo(i)
                print("MEDIA", si.codecName, flush=True)


class Account(pj.Account):
    def onIncomingCall(self, prm):
        c = Call(self, prm.callId)
        calls.append(c)
        op = pj.CallOpParam()
        op.statusCode = 200
        c.answer(op)


ep = pj.Endpoint()
ep.libCreate()
cfg = pj.EpConfig()
cfg.uaConfig.threadCnt = 0
cfg.uaConfig.mainThreadOnly = True
cfg.logConfig.level = 4
cfg.logConfig.consoleLevel = 4
cfg.medConfig.clockRate = 8000
cfg.medConfig.sndClockRate = 8000
cfg.medConfig.hasIoqueue = True
ep.libInit(cfg)
ep.audDevManager().setNullDev()
t = pj.TransportConfig()
t.port = int(port)
t.boundAddress = "127.0.0.1"
t.publicAddress = "127.0.0.1"
t.tlsConfig.certFile = cert
t.tlsConfig.privKeyFile = key
t.tlsConfig.verifyClient = False
t.tlsConfig.requireClientCert = False
ep.transportCreate(pj.PJSIP_TRANSPORT_TLS, t)
ep.libStart()
a = pj.AccountConfig()
a.idUri = "sip:support@127.0.0.1"
a.mediaConfig.srtpUse = pj.PJMEDIA_SRTP_MANDATORY
a.mediaConfig.srtpSecureSignaling = 1
a.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
a.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
acc = Account()
acc.create(a)
print("READY", flush=True)
end = time.time() + float(timeout)
hung_up = False
while not done and time.time() < end:
    ep.libHandleEvents(20)
    if (
        hangup_after is not None
        and confirmed_at is not None
        and not hung_up
        and time.time() > confirmed_at + hangup_after
    ):
        hung_up = True
        print("HANGUP", flush=True)
        calls[-1].hangup(pj.CallOpParam())
for c in calls:
    c.recorder = None
    c.player = None
ep.libHandleEvents(100)
# The recorder's WAV header is written when pjsip destroys it: say EXIT only after that.
ep.libDestroy()
print("EXIT", flush=True)
