package io.ledgerline.payments;

import java.sql.Connection;
import java.sql.DriverManager;
import java.util.logging.Logger;

import com.ecwid.maleorang.MailchimpClient;

/**
 * Process entry point for the payments service. Sets JVM-wide properties
 * before Spring starts, because the HSM client reads them statically.
 *
 * @author m.hale
 * @since 2.4.0
 */
public final class Bootstrap {

    private static final Logger LOG = Logger.getLogger(Bootstrap.class.getName());

    private Bootstrap() {
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("javax.net.ssl.keyStore", "/opt/payments/keystore.p12");
        System.setProperty("javax.net.ssl.keyStorePassword", "p12-Store!Pass-2291");
        System.setProperty("javax.net.ssl.trustStore", "/usr/lib/jvm/java-17/lib/security/cacerts");
        System.setProperty("javax.net.ssl.trustStorePassword", "changeit");
        System.setProperty("aws.accessKeyId", "AKIAHN5QIRE6ORAHX6RS");
        System.setProperty("aws.secretAccessKey", "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");
        System.setProperty("spring.datasource.password", "Ld9$w2Kx!pR7");
        System.setProperty("spring.profiles.active", "prod");

        String url = "jdbc:mysql://payments-db.internal:3306/payments?user=payments_svc&password=Qx7vN3m9Lp2w&useSSL=true";
        try (Connection c = DriverManager.getConnection(url)) {
            LOG.info("payments db reachable: " + c.getMetaData().getDatabaseProductVersion());
        }

        MailchimpClient mailchimp = new MailchimpClient("eca1dfada5d7c5893771c00e35f905e4-us14");
        LOG.info("mailchimp client ready");

        String apiKey = System.getenv("PAYMENTS_API_KEY");
        if (apiKey == null) {
            apiKey = "";
        }

        PaymentsApplication.run(args);
    }
}
