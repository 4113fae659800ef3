package io.vqdistill.cli;

import picocli.CommandLine;

/** Reports the version of the vqdistill jar and the Java runtime. */
public final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {
            "vqdistill " + (v == null ? "(development build)" : v),
            "Java " + System.getProperty("java.version") + " on " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch")
        };
    }
}
