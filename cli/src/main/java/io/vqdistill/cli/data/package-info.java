/**
 * The command line's data: getting MNIST ({@link io.vqdistill.cli.data.MnistFetcher}), the data and
 * test-image options, and the checks of input folders, whose errors name the flags as typed.
 */
package io.vqdistill.cli.data;
