// Independent verifier: Digital Bazaar's reference libraries, fully offline.
// usage: node verify.mjs CREDENTIAL.json DIDDOC.json|- [STATUS_LIST_CREDENTIAL.json ...]
// Exits 0 when the credential verifies (proof, issuer controls the key, status), 1 otherwise.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {fileURLToPath} from 'node:url';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

const here = path.dirname(fileURLToPath(import.meta.url));
const contextsDir = path.join(here, '..', '..', 'contexts');
// Only the contexts xcert bundles; nothing is fetched.
const CONTEXTS = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.json',
  'https://www.w3.org/2018/credentials/v1': 'credentials-v1.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-v3p0-3.0.3.json',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.json',
  'https://www.w3.org/ns/did/v1': 'did-v1.json',
};

const [credFile, didFile, ...statusFiles] = process.argv.slice(2);
if(!credFile || !didFile) {
  console.error('usage: node verify.mjs CREDENTIAL.json DIDDOC.json|- [STATUS.json ...]');
  process.exit(2);
}
const readJson = f => JSON.parse(fs.readFileSync(f, 'utf8'));
const credential = readJson(credFile);
const didDoc = didFile === '-' ? null : readJson(didFile);
const statusCredentials = statusFiles.map(readJson);

function didKeyDocument(did) {
  const mb = did.slice('did:key:'.length);
  const vmId = `${did}#${mb}`;
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: [{id: vmId, type: 'Multikey', controller: did, publicKeyMultibase: mb}],
    assertionMethod: [vmId],
    authentication: [vmId],
  };
}

function documentFor(url) {
  if(CONTEXTS[url]) {
    return JSON.parse(fs.readFileSync(path.join(contextsDir, CONTEXTS[url]), 'utf8'));
  }
  const [did] = url.split('#');
  let doc = null;
  if(didDoc && didDoc.id === did) {
    doc = didDoc;
  } else if(did.startsWith('did:key:z6Mk')) {
    doc = didKeyDocument(did);
  }
  if(doc) {
    if(!url.includes('#')) {
      return doc;
    }
    const vm = doc.verificationMethod.find(m => m.id === url);
    if(vm) {
      return {'@context': 'https://w3id.org/security/multikey/v1', ...vm};
    }
  }
  throw new Error(`offline document loader: ${url} is not bundled`);
}

const documentLoader = async url => ({
  contextUrl: null, documentUrl: url, document: documentFor(url)
});

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});

function decodeList(encoded) {
  const b64 = encoded.startsWith('u') ? encoded.slice(1) : encoded;
  return zlib.gunzipSync(Buffer.from(b64, 'base64url'));
}

async function checkStatus({credential}) {
  const entries = [].concat(credential.credentialStatus);
  for(const entry of entries) {
    const list = statusCredentials.find(s => s.id === entry.statusListCredential);
    if(!list) {
      return {verified: false, error: new Error(`status list ${entry.statusListCredential} not given`)};
    }
    if(list.proof) {
      const r = await vc.verifyCredential({credential: list, suite, documentLoader});
      if(!r.verified) {
        return {verified: false, error: new Error('status list credential does not verify')};
      }
    }
    if(list.credentialSubject.statusPurpose !== entry.statusPurpose) {
      return {verified: false, error: new Error('status purpose mismatch')};
    }
    const bits = decodeList(list.credentialSubject.encodedList);
    const index = parseInt(entry.statusListIndex, 10);
    if(bits[index >> 3] & (0x80 >> (index & 7))) {
      return {verified: false, error: new Error(`${entry.statusPurpose} bit ${index} is set`)};
    }
  }
  return {verified: true};
}

// Keep Ed25519Multikey imported: the cryptosuite resolves Multikey methods through it.
void Ed25519Multikey;

try {
  const result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus});
  if(result.verified) {
    console.log('verified');
    process.exit(0);
  }
  const errs = [result.error, ...(result.results || []).map(r => r.error), result.statusResult?.error]
    .filter(Boolean).map(e => e.message + (e.errors ? ': ' + e.errors.map(x => x.message).join('; ') : ''));
  console.log('NOT verified:', errs.join(' | '));
  process.exit(1);
} catch(e) {
  console.log('NOT verified (error):', e.message);
  process.exit(1);
}
