// A verifier for liandong's SM2/SM3 seals written without liandong (issue 15): Java's own DOM
// parser and exclusive C14N (the JDK's Apache Santuario), Bouncy Castle for SM3 and SM2.
// Usage: java VerifySm2.java DOCUMENT.xml... -> one line per document: "OK <signer>" or why not.
// The profile: docs/signature-profile.md 4.7 (r||s values, signer ID 1234567812345678, which is
// Bouncy Castle's default for SM3withSM2).
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.Security;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import javax.xml.parsers.DocumentBuilderFactory;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import com.sun.org.apache.xml.internal.security.Init;
import com.sun.org.apache.xml.internal.security.c14n.Canonicalizer;

public class VerifySm2 {
    static final String DS = "http://www.w3.org/2000/09/xmldsig#";

    static Element child(Element parent, String name) {
        return (Element) parent.getElementsByTagNameNS(DS, name).item(0);
    }

    static byte[] excC14n(Node node) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Canonicalizer.getInstance(Canonicalizer.ALGO_ID_C14N_EXCL_OMIT_COMMENTS).canonicalizeSubtree(node, out);
        return out.toByteArray();
    }

    static byte[] b64(Element e) {
        return Base64.getMimeDecoder().decode(e.getTextContent().trim());
    }

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        Init.init();
        for (String path : args) {
            System.out.println(path + ": " + verify(path));
        }
    }

    static String verify(String path) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = f.newDocumentBuilder().parse(new File(path));
        Element root = doc.getDocumentElement();
        Element sig = child(root, "Signature");
        Element info = child(sig, "SignedInfo");
        if (!"http://www.w3.org/2000/09/xmldsig#sm2-sm3".equals(child(info, "SignatureMethod").getAttribute("Algorithm"))
                || !"http://www.w3.org/2000/09/xmldsig#sm3".equals(child(info, "DigestMethod").getAttribute("Algorithm"))) {
            return "not the SM2/SM3 suite";
        }
        byte[] signedInfo = excC14n(info);
        byte[] rs = b64(child(sig, "SignatureValue"));
        byte[] der = new DERSequence(new ASN1Encodable[] {
            new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(rs, 0, 32))),
            new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(rs, 32, 64)))}).getEncoded();
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509", "BC")
            .generateCertificate(new ByteArrayInputStream(b64(child(sig, "X509Certificate"))));
        Signature sm2 = Signature.getInstance("SM3withSM2", "BC");
        sm2.initVerify(cert.getPublicKey());
        sm2.update(signedInfo);
        if (!sm2.verify(der)) {
            return "the SM2 signature over SignedInfo does not verify";
        }
        byte[] claimed = b64(child(info, "DigestValue"));
        root.removeChild(sig);  // the enveloped-signature transform
        byte[] digest = MessageDigest.getInstance("SM3", "BC").digest(excC14n(root));
        if (!MessageDigest.isEqual(digest, claimed)) {
            return "the SM3 digest of the document does not match";
        }
        return "OK " + cert.getSubjectX500Principal().getName();
    }
}
