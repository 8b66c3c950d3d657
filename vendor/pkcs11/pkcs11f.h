/*
 * pkcs11f.h -- the Cryptoki (PKCS #11 v3.2) function table, one entry per
 * function, in the order of the slots of the function-list structures.
 *
 * Written for this project from the OASIS PKCS #11 Specification Version 3.2
 * (with its 2.40 / 3.0 / 3.1 base).  Function names, parameter types and
 * their order are facts of the standard; the wording here is our own.
 *
 * This file deliberately has NO include guard: pkcs11.h pulls it in several
 * times, each time with a different meaning for the entry macro, to produce
 * prototypes, pointer typedefs and the bodies of the function-list structs.
 *
 * What the includer supplies
 * --------------------------
 *   CK_PKCS11_FUNCTION_INFO(name)
 *       Expanded once per function, with `name` being the bare function
 *       name (C_Initialize, C_Finalize, ...).  Must be defined.
 *
 *   CK_NEED_ARG_LIST
 *       If defined, every entry is followed by its parenthesised parameter
 *       list and a semicolon, i.e. `( CK_VOID_PTR pInitArgs );`.  If not
 *       defined, the entry consists of the CK_PKCS11_FUNCTION_INFO expansion
 *       alone (that is how struct members are generated).
 *
 * Section guards (all optional; by default every section is emitted)
 * ------------------------------------------------------------------
 *   CK_PKCS11F_OMIT_BASE  leave out the 68 functions of the version 2.x
 *                         list (C_Initialize ... C_WaitForSlotEvent).
 *   CK_PKCS11F_OMIT_3_0   leave out the 24 functions added by version 3.0
 *                         (C_GetInterfaceList ... C_MessageVerifyFinal).
 *   CK_PKCS11F_OMIT_3_2   leave out the 12 functions added by version 3.2
 *                         (C_EncapsulateKey ... C_UnwrapKeyAuthenticated).
 *
 * The three sections appear in slot order, so
 *   - nothing omitted                      -> CK_FUNCTION_LIST_3_2 slots,
 *   - CK_PKCS11F_OMIT_3_2                  -> CK_FUNCTION_LIST_3_0 slots,
 *   - CK_PKCS11F_OMIT_3_0 and _OMIT_3_2    -> CK_FUNCTION_LIST slots.
 * The includer is responsible for #undef-ing these guards afterwards.
 *
 * Every type named below (CK_SESSION_HANDLE, CK_BYTE_PTR, CK_NOTIFY, ...)
 * comes from pkcs11t.h, which must have been included first.  The
 * application-supplied notification callback (CK_NOTIFY) is a type, not a
 * library function, and therefore does not appear here.
 */


/* ======================================================================
 * Section 1: the version 2.x function set (68 functions)
 * ====================================================================== */
#ifndef CK_PKCS11F_OMIT_BASE

/* ---- general purpose ---- */

/* C_Initialize: get the library ready for use. */
CK_PKCS11_FUNCTION_INFO(C_Initialize)
#ifdef CK_NEED_ARG_LIST
(
  CK_VOID_PTR               pInitArgs               /* NULL_PTR, or points at a CK_C_INITIALIZE_ARGS */
);
#endif

/* C_Finalize: the application is done with the library. */
CK_PKCS11_FUNCTION_INFO(C_Finalize)
#ifdef CK_NEED_ARG_LIST
(
  CK_VOID_PTR               pReserved               /* must be NULL_PTR */
);
#endif

/* C_GetInfo: general facts about the library. */
CK_PKCS11_FUNCTION_INFO(C_GetInfo)
#ifdef CK_NEED_ARG_LIST
(
  CK_INFO_PTR               pInfo                   /* filled in by the library */
);
#endif

/* C_GetFunctionList: obtain the version 2.x function table. */
CK_PKCS11_FUNCTION_INFO(C_GetFunctionList)
#ifdef CK_NEED_ARG_LIST
(
  CK_FUNCTION_LIST_PTR_PTR  ppFunctionList          /* receives the table's address */
);
#endif

/* ---- slot and token management ---- */

/* C_GetSlotList: enumerate slots. */
CK_PKCS11_FUNCTION_INFO(C_GetSlotList)
#ifdef CK_NEED_ARG_LIST
(
  CK_BBOOL                  tokenPresent,           /* CK_TRUE: only slots holding a token */
  CK_SLOT_ID_PTR            pSlotList,              /* output array, or NULL_PTR to size it */
  CK_ULONG_PTR              pulCount                /* in: array capacity; out: slot count */
);
#endif

/* C_GetSlotInfo: describe one slot. */
CK_PKCS11_FUNCTION_INFO(C_GetSlotInfo)
#ifdef CK_NEED_ARG_LIST
(
  CK_SLOT_ID                slotID,                 /* slot being asked about */
  CK_SLOT_INFO_PTR          pInfo                   /* filled in by the library */
);
#endif

/* C_GetTokenInfo: describe the token in a slot. */
CK_PKCS11_FUNCTION_INFO(C_GetTokenInfo)
#ifdef CK_NEED_ARG_LIST
(
  CK_SLOT_ID                slotID,                 /* slot holding the token */
  CK_TOKEN_INFO_PTR         pInfo                   /* filled in by the library */
);
#endif

/* C_GetMechanismList: which mechanisms a token offers. */
CK_PKCS11_FUNCTION_INFO(C_GetMechanismList)
#ifdef CK_NEED_ARG_LIST
(
  CK_SLOT_ID                slotID,                 /* slot holding the token */
  CK_MECHANISM_TYPE_PTR     pMechanismList,         /* output array, or NULL_PTR to size it */
  CK_ULONG_PTR              pulCount                /* in: capacity; out: mechanism count */
);
#endif

/* C_GetMechanismInfo: capabilities of one mechanism on a token. */
CK_PKCS11_FUNCTION_INFO(C_GetMechanismInfo)
#ifdef CK_NEED_ARG_LIST
(
  CK_SLOT_ID                slotID,                 /* slot holding the token */
  CK_MECHANISM_TYPE         type,                   /* mechanism being asked about */
  CK_MECHANISM_INFO_PTR     pInfo                   /* filled in by the library */
);
#endif

/* C_InitToken: (re)initialise a token. */
CK_PKCS11_FUNCTION_INFO(C_InitToken)
#ifdef CK_NEED_ARG_LIST
(
  CK_SLOT_ID                slotID,                 /* slot holding the token */
  CK_UTF8CHAR_PTR           pPin,                   /* security officer's PIN */
  CK_ULONG                  ulPinLen,               /* PIN length in bytes */
  CK_UTF8CHAR_PTR           pLabel                  /* 32-byte, blank-padded token label */
);
#endif

/* C_InitPIN: the security officer sets the normal user's PIN. */
CK_PKCS11_FUNCTION_INFO(C_InitPIN)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* read/write SO session */
  CK_UTF8CHAR_PTR           pPin,                   /* new user PIN */
  CK_ULONG                  ulPinLen                /* its length in bytes */
);
#endif

/* C_SetPIN: change the PIN of the user currently logged in. */
CK_PKCS11_FUNCTION_INFO(C_SetPIN)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_UTF8CHAR_PTR           pOldPin,                /* current PIN */
  CK_ULONG                  ulOldLen,               /* its length */
  CK_UTF8CHAR_PTR           pNewPin,                /* replacement PIN */
  CK_ULONG                  ulNewLen                /* its length */
);
#endif

/* ---- session management ---- */

/* C_OpenSession: start a session with the token in a slot. */
CK_PKCS11_FUNCTION_INFO(C_OpenSession)
#ifdef CK_NEED_ARG_LIST
(
  CK_SLOT_ID                slotID,                 /* slot holding the token */
  CK_FLAGS                  flags,                  /* CKF_SERIAL_SESSION, optionally CKF_RW_SESSION */
  CK_VOID_PTR               pApplication,           /* opaque value handed back to Notify */
  CK_NOTIFY                 Notify,                 /* notification callback, may be NULL_PTR */
  CK_SESSION_HANDLE_PTR     phSession               /* receives the new session handle */
);
#endif

/* C_CloseSession: end one session. */
CK_PKCS11_FUNCTION_INFO(C_CloseSession)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* session to close */
);
#endif

/* C_CloseAllSessions: end every session the application has on a token. */
CK_PKCS11_FUNCTION_INFO(C_CloseAllSessions)
#ifdef CK_NEED_ARG_LIST
(
  CK_SLOT_ID                slotID                  /* slot holding the token */
);
#endif

/* C_GetSessionInfo: describe a session. */
CK_PKCS11_FUNCTION_INFO(C_GetSessionInfo)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_SESSION_INFO_PTR       pInfo                   /* filled in by the library */
);
#endif

/* C_GetOperationState: serialise the state of the active operation(s). */
CK_PKCS11_FUNCTION_INFO(C_GetOperationState)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pOperationState,        /* output buffer, or NULL_PTR to size it */
  CK_ULONG_PTR              pulOperationStateLen    /* in: capacity; out: length of the state */
);
#endif

/* C_SetOperationState: restore state saved by C_GetOperationState. */
CK_PKCS11_FUNCTION_INFO(C_SetOperationState)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pOperationState,        /* previously saved state */
  CK_ULONG                  ulOperationStateLen,    /* its length */
  CK_OBJECT_HANDLE          hEncryptionKey,         /* key for en/decryption, or 0 */
  CK_OBJECT_HANDLE          hAuthenticationKey      /* key for signing/MACing, or 0 */
);
#endif

/* C_Login: authenticate a user to the token. */
CK_PKCS11_FUNCTION_INFO(C_Login)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_USER_TYPE              userType,               /* CKU_SO, CKU_USER or CKU_CONTEXT_SPECIFIC */
  CK_UTF8CHAR_PTR           pPin,                   /* the PIN */
  CK_ULONG                  ulPinLen                /* its length */
);
#endif

/* C_Logout: drop the current login. */
CK_PKCS11_FUNCTION_INFO(C_Logout)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* the session */
);
#endif

/* ---- object management ---- */

/* C_CreateObject: make a new object from a template. */
CK_PKCS11_FUNCTION_INFO(C_CreateObject)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_ATTRIBUTE_PTR          pTemplate,              /* attributes of the new object */
  CK_ULONG                  ulCount,                /* number of attributes */
  CK_OBJECT_HANDLE_PTR      phObject                /* receives the new object's handle */
);
#endif

/* C_CopyObject: duplicate an object, optionally changing attributes. */
CK_PKCS11_FUNCTION_INFO(C_CopyObject)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_OBJECT_HANDLE          hObject,                /* object to copy */
  CK_ATTRIBUTE_PTR          pTemplate,              /* attributes to set on the copy */
  CK_ULONG                  ulCount,                /* number of attributes */
  CK_OBJECT_HANDLE_PTR      phNewObject             /* receives the copy's handle */
);
#endif

/* C_DestroyObject: delete an object. */
CK_PKCS11_FUNCTION_INFO(C_DestroyObject)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_OBJECT_HANDLE          hObject                 /* object to delete */
);
#endif

/* C_GetObjectSize: approximate storage used by an object. */
CK_PKCS11_FUNCTION_INFO(C_GetObjectSize)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_OBJECT_HANDLE          hObject,                /* the object */
  CK_ULONG_PTR              pulSize                 /* receives the size in bytes */
);
#endif

/* C_GetAttributeValue: read attributes of an object. */
CK_PKCS11_FUNCTION_INFO(C_GetAttributeValue)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_OBJECT_HANDLE          hObject,                /* the object */
  CK_ATTRIBUTE_PTR          pTemplate,              /* attribute types in, values/lengths out */
  CK_ULONG                  ulCount                 /* number of attributes */
);
#endif

/* C_SetAttributeValue: change attributes of an object. */
CK_PKCS11_FUNCTION_INFO(C_SetAttributeValue)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_OBJECT_HANDLE          hObject,                /* the object */
  CK_ATTRIBUTE_PTR          pTemplate,              /* new attribute values */
  CK_ULONG                  ulCount                 /* number of attributes */
);
#endif

/* C_FindObjectsInit: begin a search for objects matching a template. */
CK_PKCS11_FUNCTION_INFO(C_FindObjectsInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_ATTRIBUTE_PTR          pTemplate,              /* values to match; empty matches all */
  CK_ULONG                  ulCount                 /* number of attributes */
);
#endif

/* C_FindObjects: fetch the next batch of search results. */
CK_PKCS11_FUNCTION_INFO(C_FindObjects)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_OBJECT_HANDLE_PTR      phObject,               /* output array of handles */
  CK_ULONG                  ulMaxObjectCount,       /* capacity of that array */
  CK_ULONG_PTR              pulObjectCount          /* receives how many were stored */
);
#endif

/* C_FindObjectsFinal: end the search. */
CK_PKCS11_FUNCTION_INFO(C_FindObjectsFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* the session */
);
#endif

/* ---- encryption ---- */

/* C_EncryptInit: start an encryption operation. */
CK_PKCS11_FUNCTION_INFO(C_EncryptInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm and its parameters */
  CK_OBJECT_HANDLE          hKey                    /* encryption key */
);
#endif

/* C_Encrypt: encrypt data in one call. */
CK_PKCS11_FUNCTION_INFO(C_Encrypt)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pData,                  /* plaintext */
  CK_ULONG                  ulDataLen,              /* its length */
  CK_BYTE_PTR               pEncryptedData,         /* ciphertext out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulEncryptedDataLen     /* in: capacity; out: ciphertext length */
);
#endif

/* C_EncryptUpdate: feed one more part to a multi-part encryption. */
CK_PKCS11_FUNCTION_INFO(C_EncryptUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pPart,                  /* plaintext part */
  CK_ULONG                  ulPartLen,              /* its length */
  CK_BYTE_PTR               pEncryptedPart,         /* ciphertext produced so far */
  CK_ULONG_PTR              pulEncryptedPartLen     /* in: capacity; out: bytes produced */
);
#endif

/* C_EncryptFinal: finish a multi-part encryption. */
CK_PKCS11_FUNCTION_INFO(C_EncryptFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pLastEncryptedPart,     /* trailing ciphertext, if any */
  CK_ULONG_PTR              pulLastEncryptedPartLen /* in: capacity; out: bytes produced */
);
#endif

/* ---- decryption ---- */

/* C_DecryptInit: start a decryption operation. */
CK_PKCS11_FUNCTION_INFO(C_DecryptInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm and its parameters */
  CK_OBJECT_HANDLE          hKey                    /* decryption key */
);
#endif

/* C_Decrypt: decrypt data in one call. */
CK_PKCS11_FUNCTION_INFO(C_Decrypt)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pEncryptedData,         /* ciphertext */
  CK_ULONG                  ulEncryptedDataLen,     /* its length */
  CK_BYTE_PTR               pData,                  /* plaintext out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulDataLen              /* in: capacity; out: plaintext length */
);
#endif

/* C_DecryptUpdate: feed one more part to a multi-part decryption. */
CK_PKCS11_FUNCTION_INFO(C_DecryptUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pEncryptedPart,         /* ciphertext part */
  CK_ULONG                  ulEncryptedPartLen,     /* its length */
  CK_BYTE_PTR               pPart,                  /* plaintext produced so far */
  CK_ULONG_PTR              pulPartLen              /* in: capacity; out: bytes produced */
);
#endif

/* C_DecryptFinal: finish a multi-part decryption. */
CK_PKCS11_FUNCTION_INFO(C_DecryptFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pLastPart,              /* trailing plaintext, if any */
  CK_ULONG_PTR              pulLastPartLen          /* in: capacity; out: bytes produced */
);
#endif

/* ---- message digesting ---- */

/* C_DigestInit: start a digest operation. */
CK_PKCS11_FUNCTION_INFO(C_DigestInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism              /* digest algorithm */
);
#endif

/* C_Digest: hash data in one call. */
CK_PKCS11_FUNCTION_INFO(C_Digest)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pData,                  /* input */
  CK_ULONG                  ulDataLen,              /* its length */
  CK_BYTE_PTR               pDigest,                /* digest out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulDigestLen            /* in: capacity; out: digest length */
);
#endif

/* C_DigestUpdate: feed one more part to a multi-part digest. */
CK_PKCS11_FUNCTION_INFO(C_DigestUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pPart,                  /* input part */
  CK_ULONG                  ulPartLen               /* its length */
);
#endif

/* C_DigestKey: feed the value of a secret key to a multi-part digest. */
CK_PKCS11_FUNCTION_INFO(C_DigestKey)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_OBJECT_HANDLE          hKey                    /* key whose value is hashed */
);
#endif

/* C_DigestFinal: finish a multi-part digest. */
CK_PKCS11_FUNCTION_INFO(C_DigestFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pDigest,                /* digest out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulDigestLen            /* in: capacity; out: digest length */
);
#endif

/* ---- signing and MACing (signature with appendix) ---- */

/* C_SignInit: start a signature or MAC operation. */
CK_PKCS11_FUNCTION_INFO(C_SignInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm and its parameters */
  CK_OBJECT_HANDLE          hKey                    /* signing / MAC key */
);
#endif

/* C_Sign: sign data in one call. */
CK_PKCS11_FUNCTION_INFO(C_Sign)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pData,                  /* data to sign */
  CK_ULONG                  ulDataLen,              /* its length */
  CK_BYTE_PTR               pSignature,             /* signature out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulSignatureLen         /* in: capacity; out: signature length */
);
#endif

/* C_SignUpdate: feed one more part to a multi-part signature. */
CK_PKCS11_FUNCTION_INFO(C_SignUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pPart,                  /* data part */
  CK_ULONG                  ulPartLen               /* its length */
);
#endif

/* C_SignFinal: finish a multi-part signature. */
CK_PKCS11_FUNCTION_INFO(C_SignFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pSignature,             /* signature out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulSignatureLen         /* in: capacity; out: signature length */
);
#endif

/* C_SignRecoverInit: start a signature from which data can be recovered. */
CK_PKCS11_FUNCTION_INFO(C_SignRecoverInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm and its parameters */
  CK_OBJECT_HANDLE          hKey                    /* signing key */
);
#endif

/* C_SignRecover: single-part signature with message recovery. */
CK_PKCS11_FUNCTION_INFO(C_SignRecover)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pData,                  /* data to sign */
  CK_ULONG                  ulDataLen,              /* its length */
  CK_BYTE_PTR               pSignature,             /* signature out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulSignatureLen         /* in: capacity; out: signature length */
);
#endif

/* ---- verification (signature with appendix) ---- */

/* C_VerifyInit: start a signature or MAC check. */
CK_PKCS11_FUNCTION_INFO(C_VerifyInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm and its parameters */
  CK_OBJECT_HANDLE          hKey                    /* verification key */
);
#endif

/* C_Verify: check a signature over data in one call. */
CK_PKCS11_FUNCTION_INFO(C_Verify)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pData,                  /* signed data */
  CK_ULONG                  ulDataLen,              /* its length */
  CK_BYTE_PTR               pSignature,             /* signature to check */
  CK_ULONG                  ulSignatureLen          /* its length */
);
#endif

/* C_VerifyUpdate: feed one more part to a multi-part check. */
CK_PKCS11_FUNCTION_INFO(C_VerifyUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pPart,                  /* data part */
  CK_ULONG                  ulPartLen               /* its length */
);
#endif

/* C_VerifyFinal: finish a multi-part check against a signature. */
CK_PKCS11_FUNCTION_INFO(C_VerifyFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pSignature,             /* signature to check */
  CK_ULONG                  ulSignatureLen          /* its length */
);
#endif

/* C_VerifyRecoverInit: start a check that recovers the signed data. */
CK_PKCS11_FUNCTION_INFO(C_VerifyRecoverInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm and its parameters */
  CK_OBJECT_HANDLE          hKey                    /* verification key */
);
#endif

/* C_VerifyRecover: check a signature and return the data inside it. */
CK_PKCS11_FUNCTION_INFO(C_VerifyRecover)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pSignature,             /* signature to check */
  CK_ULONG                  ulSignatureLen,         /* its length */
  CK_BYTE_PTR               pData,                  /* recovered data, or NULL_PTR to size it */
  CK_ULONG_PTR              pulDataLen              /* in: capacity; out: data length */
);
#endif

/* ---- dual-function operations ---- */

/* C_DigestEncryptUpdate: continue a digest and an encryption together. */
CK_PKCS11_FUNCTION_INFO(C_DigestEncryptUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pPart,                  /* plaintext part */
  CK_ULONG                  ulPartLen,              /* its length */
  CK_BYTE_PTR               pEncryptedPart,         /* ciphertext out */
  CK_ULONG_PTR              pulEncryptedPartLen     /* in: capacity; out: bytes produced */
);
#endif

/* C_DecryptDigestUpdate: continue a decryption and a digest together. */
CK_PKCS11_FUNCTION_INFO(C_DecryptDigestUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pEncryptedPart,         /* ciphertext part */
  CK_ULONG                  ulEncryptedPartLen,     /* its length */
  CK_BYTE_PTR               pPart,                  /* plaintext out */
  CK_ULONG_PTR              pulPartLen              /* in: capacity; out: bytes produced */
);
#endif

/* C_SignEncryptUpdate: continue a signature and an encryption together. */
CK_PKCS11_FUNCTION_INFO(C_SignEncryptUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pPart,                  /* plaintext part */
  CK_ULONG                  ulPartLen,              /* its length */
  CK_BYTE_PTR               pEncryptedPart,         /* ciphertext out */
  CK_ULONG_PTR              pulEncryptedPartLen     /* in: capacity; out: bytes produced */
);
#endif

/* C_DecryptVerifyUpdate: continue a decryption and a verification together. */
CK_PKCS11_FUNCTION_INFO(C_DecryptVerifyUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pEncryptedPart,         /* ciphertext part */
  CK_ULONG                  ulEncryptedPartLen,     /* its length */
  CK_BYTE_PTR               pPart,                  /* plaintext out */
  CK_ULONG_PTR              pulPartLen              /* in: capacity; out: bytes produced */
);
#endif

/* ---- key management ---- */

/* C_GenerateKey: create a secret key or domain parameters. */
CK_PKCS11_FUNCTION_INFO(C_GenerateKey)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* generation mechanism */
  CK_ATTRIBUTE_PTR          pTemplate,              /* attributes of the new key */
  CK_ULONG                  ulCount,                /* number of attributes */
  CK_OBJECT_HANDLE_PTR      phKey                   /* receives the new key's handle */
);
#endif

/* C_GenerateKeyPair: create a public/private key pair. */
CK_PKCS11_FUNCTION_INFO(C_GenerateKeyPair)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,                   /* the session */
  CK_MECHANISM_PTR          pMechanism,                 /* generation mechanism */
  CK_ATTRIBUTE_PTR          pPublicKeyTemplate,         /* attributes of the public half */
  CK_ULONG                  ulPublicKeyAttributeCount,  /* number of those attributes */
  CK_ATTRIBUTE_PTR          pPrivateKeyTemplate,        /* attributes of the private half */
  CK_ULONG                  ulPrivateKeyAttributeCount, /* number of those attributes */
  CK_OBJECT_HANDLE_PTR      phPublicKey,                /* receives the public key's handle */
  CK_OBJECT_HANDLE_PTR      phPrivateKey                /* receives the private key's handle */
);
#endif

/* C_WrapKey: export a key encrypted under another key. */
CK_PKCS11_FUNCTION_INFO(C_WrapKey)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* wrapping mechanism */
  CK_OBJECT_HANDLE          hWrappingKey,           /* key that does the wrapping */
  CK_OBJECT_HANDLE          hKey,                   /* key being exported */
  CK_BYTE_PTR               pWrappedKey,            /* wrapped blob out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulWrappedKeyLen        /* in: capacity; out: blob length */
);
#endif

/* C_UnwrapKey: import a wrapped key as a new key object. */
CK_PKCS11_FUNCTION_INFO(C_UnwrapKey)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* unwrapping mechanism */
  CK_OBJECT_HANDLE          hUnwrappingKey,         /* key that does the unwrapping */
  CK_BYTE_PTR               pWrappedKey,            /* wrapped blob */
  CK_ULONG                  ulWrappedKeyLen,        /* its length */
  CK_ATTRIBUTE_PTR          pTemplate,              /* attributes of the imported key */
  CK_ULONG                  ulAttributeCount,       /* number of attributes */
  CK_OBJECT_HANDLE_PTR      phKey                   /* receives the new key's handle */
);
#endif

/* C_DeriveKey: compute a new key from a base key. */
CK_PKCS11_FUNCTION_INFO(C_DeriveKey)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* derivation mechanism */
  CK_OBJECT_HANDLE          hBaseKey,               /* key derived from */
  CK_ATTRIBUTE_PTR          pTemplate,              /* attributes of the derived key */
  CK_ULONG                  ulAttributeCount,       /* number of attributes */
  CK_OBJECT_HANDLE_PTR      phKey                   /* receives the new key's handle */
);
#endif

/* ---- random number generation ---- */

/* C_SeedRandom: mix extra seed material into the token's RNG. */
CK_PKCS11_FUNCTION_INFO(C_SeedRandom)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pSeed,                  /* seed material */
  CK_ULONG                  ulSeedLen               /* its length */
);
#endif

/* C_GenerateRandom: obtain random bytes from the token. */
CK_PKCS11_FUNCTION_INFO(C_GenerateRandom)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               RandomData,             /* buffer to fill */
  CK_ULONG                  ulRandomLen             /* number of bytes wanted */
);
#endif

/* ---- legacy parallel-function management ---- */

/* C_GetFunctionStatus: legacy; always reports that nothing runs in parallel. */
CK_PKCS11_FUNCTION_INFO(C_GetFunctionStatus)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* the session */
);
#endif

/* C_CancelFunction: legacy; always reports that nothing runs in parallel. */
CK_PKCS11_FUNCTION_INFO(C_CancelFunction)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* the session */
);
#endif

/* ---- slot events ---- */

/* C_WaitForSlotEvent: wait for (or poll) a slot insertion/removal event. */
CK_PKCS11_FUNCTION_INFO(C_WaitForSlotEvent)
#ifdef CK_NEED_ARG_LIST
(
  CK_FLAGS                  flags,                  /* CKF_DONT_BLOCK to poll instead of waiting */
  CK_SLOT_ID_PTR            pSlot,                  /* receives the slot the event happened in */
  CK_VOID_PTR               pReserved               /* must be NULL_PTR */
);
#endif

#endif /* !CK_PKCS11F_OMIT_BASE */


/* ======================================================================
 * Section 2: functions added by version 3.0 (24 functions)
 * ====================================================================== */
#ifndef CK_PKCS11F_OMIT_3_0

/* ---- interfaces ---- */

/* C_GetInterfaceList: every interface (function table) the library offers. */
CK_PKCS11_FUNCTION_INFO(C_GetInterfaceList)
#ifdef CK_NEED_ARG_LIST
(
  CK_INTERFACE_PTR          pInterfacesList,        /* output array, or NULL_PTR to size it */
  CK_ULONG_PTR              pulCount                /* in: capacity; out: interface count */
);
#endif

/* C_GetInterface: pick one interface by name, version and flags. */
CK_PKCS11_FUNCTION_INFO(C_GetInterface)
#ifdef CK_NEED_ARG_LIST
(
  CK_UTF8CHAR_PTR           pInterfaceName,         /* e.g. "PKCS 11"; NULL_PTR for the default */
  CK_VERSION_PTR            pVersion,               /* wanted version; NULL_PTR for any */
  CK_INTERFACE_PTR_PTR      ppInterface,            /* receives the interface's address */
  CK_FLAGS                  flags                   /* required CKF_INTERFACE_* flags */
);
#endif

/* ---- session management ---- */

/* C_LoginUser: log in a named user. */
CK_PKCS11_FUNCTION_INFO(C_LoginUser)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_USER_TYPE              userType,               /* CKU_SO, CKU_USER or CKU_CONTEXT_SPECIFIC */
  CK_UTF8CHAR_PTR           pPin,                   /* the PIN */
  CK_ULONG                  ulPinLen,               /* its length */
  CK_UTF8CHAR_PTR           pUsername,              /* the user name */
  CK_ULONG                  ulUsernameLen           /* its length */
);
#endif

/* C_SessionCancel: abort the operations selected by flags. */
CK_PKCS11_FUNCTION_INFO(C_SessionCancel)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_FLAGS                  flags                   /* which operations, as CKF_* operation flags */
);
#endif

/* ---- message-based encryption ---- */

/* C_MessageEncryptInit: set up a key for per-message encryption. */
CK_PKCS11_FUNCTION_INFO(C_MessageEncryptInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm */
  CK_OBJECT_HANDLE          hKey                    /* encryption key */
);
#endif

/* C_EncryptMessage: encrypt one whole message. */
CK_PKCS11_FUNCTION_INFO(C_EncryptMessage)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter (IV, tag, ...) */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pAssociatedData,        /* authenticated-only data */
  CK_ULONG                  ulAssociatedDataLen,    /* its length */
  CK_BYTE_PTR               pPlaintext,             /* plaintext */
  CK_ULONG                  ulPlaintextLen,         /* its length */
  CK_BYTE_PTR               pCiphertext,            /* ciphertext out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulCiphertextLen        /* in: capacity; out: ciphertext length */
);
#endif

/* C_EncryptMessageBegin: start encrypting one message in parts. */
CK_PKCS11_FUNCTION_INFO(C_EncryptMessageBegin)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pAssociatedData,        /* authenticated-only data */
  CK_ULONG                  ulAssociatedDataLen     /* its length */
);
#endif

/* C_EncryptMessageNext: encrypt the next part of the current message. */
CK_PKCS11_FUNCTION_INFO(C_EncryptMessageNext)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pPlaintextPart,         /* plaintext part */
  CK_ULONG                  ulPlaintextPartLen,     /* its length */
  CK_BYTE_PTR               pCiphertextPart,        /* ciphertext out */
  CK_ULONG_PTR              pulCiphertextPartLen,   /* in: capacity; out: bytes produced */
  CK_FLAGS                  flags                   /* CKF_END_OF_MESSAGE on the last part */
);
#endif

/* C_MessageEncryptFinal: end the per-message encryption set-up. */
CK_PKCS11_FUNCTION_INFO(C_MessageEncryptFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* the session */
);
#endif

/* ---- message-based decryption ---- */

/* C_MessageDecryptInit: set up a key for per-message decryption. */
CK_PKCS11_FUNCTION_INFO(C_MessageDecryptInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm */
  CK_OBJECT_HANDLE          hKey                    /* decryption key */
);
#endif

/* C_DecryptMessage: decrypt one whole message. */
CK_PKCS11_FUNCTION_INFO(C_DecryptMessage)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pAssociatedData,        /* authenticated-only data */
  CK_ULONG                  ulAssociatedDataLen,    /* its length */
  CK_BYTE_PTR               pCiphertext,            /* ciphertext */
  CK_ULONG                  ulCiphertextLen,        /* its length */
  CK_BYTE_PTR               pPlaintext,             /* plaintext out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulPlaintextLen         /* in: capacity; out: plaintext length */
);
#endif

/* C_DecryptMessageBegin: start decrypting one message in parts. */
CK_PKCS11_FUNCTION_INFO(C_DecryptMessageBegin)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pAssociatedData,        /* authenticated-only data */
  CK_ULONG                  ulAssociatedDataLen     /* its length */
);
#endif

/* C_DecryptMessageNext: decrypt the next part of the current message. */
CK_PKCS11_FUNCTION_INFO(C_DecryptMessageNext)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pCiphertextPart,        /* ciphertext part */
  CK_ULONG                  ulCiphertextPartLen,    /* its length */
  CK_BYTE_PTR               pPlaintextPart,         /* plaintext out */
  CK_ULONG_PTR              pulPlaintextPartLen,    /* in: capacity; out: bytes produced */
  CK_FLAGS                  flags                   /* CKF_END_OF_MESSAGE on the last part */
);
#endif

/* C_MessageDecryptFinal: end the per-message decryption set-up. */
CK_PKCS11_FUNCTION_INFO(C_MessageDecryptFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* the session */
);
#endif

/* ---- message-based signing ---- */

/* C_MessageSignInit: set up a key for per-message signing. */
CK_PKCS11_FUNCTION_INFO(C_MessageSignInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm */
  CK_OBJECT_HANDLE          hKey                    /* signing / MAC key */
);
#endif

/* C_SignMessage: sign one whole message. */
CK_PKCS11_FUNCTION_INFO(C_SignMessage)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pData,                  /* message */
  CK_ULONG                  ulDataLen,              /* its length */
  CK_BYTE_PTR               pSignature,             /* signature out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulSignatureLen         /* in: capacity; out: signature length */
);
#endif

/* C_SignMessageBegin: start signing one message in parts. */
CK_PKCS11_FUNCTION_INFO(C_SignMessageBegin)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen          /* its length */
);
#endif

/* C_SignMessageNext: feed a part; with pSignature set, also finish the message. */
CK_PKCS11_FUNCTION_INFO(C_SignMessageNext)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pData,                  /* message part */
  CK_ULONG                  ulDataLen,              /* its length */
  CK_BYTE_PTR               pSignature,             /* NULL_PTR except on the last part */
  CK_ULONG_PTR              pulSignatureLen         /* in: capacity; out: signature length */
);
#endif

/* C_MessageSignFinal: end the per-message signing set-up. */
CK_PKCS11_FUNCTION_INFO(C_MessageSignFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* the session */
);
#endif

/* ---- message-based verification ---- */

/* C_MessageVerifyInit: set up a key for per-message verification. */
CK_PKCS11_FUNCTION_INFO(C_MessageVerifyInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm */
  CK_OBJECT_HANDLE          hKey                    /* verification key */
);
#endif

/* C_VerifyMessage: check the signature of one whole message. */
CK_PKCS11_FUNCTION_INFO(C_VerifyMessage)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pData,                  /* message */
  CK_ULONG                  ulDataLen,              /* its length */
  CK_BYTE_PTR               pSignature,             /* signature to check */
  CK_ULONG                  ulSignatureLen          /* its length */
);
#endif

/* C_VerifyMessageBegin: start verifying one message in parts. */
CK_PKCS11_FUNCTION_INFO(C_VerifyMessageBegin)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen          /* its length */
);
#endif

/* C_VerifyMessageNext: feed a part; with pSignature set, also check the message. */
CK_PKCS11_FUNCTION_INFO(C_VerifyMessageNext)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_VOID_PTR               pParameter,             /* per-message parameter */
  CK_ULONG                  ulParameterLen,         /* its length */
  CK_BYTE_PTR               pData,                  /* message part */
  CK_ULONG                  ulDataLen,              /* its length */
  CK_BYTE_PTR               pSignature,             /* NULL_PTR except on the last part */
  CK_ULONG                  ulSignatureLen          /* its length */
);
#endif

/* C_MessageVerifyFinal: end the per-message verification set-up. */
CK_PKCS11_FUNCTION_INFO(C_MessageVerifyFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* the session */
);
#endif

#endif /* !CK_PKCS11F_OMIT_3_0 */


/* ======================================================================
 * Section 3: functions added by version 3.2 (12 functions)
 * ====================================================================== */
#ifndef CK_PKCS11F_OMIT_3_2

/* ---- key encapsulation (KEM) ---- */

/* C_EncapsulateKey: create a shared secret key and its encapsulation. */
CK_PKCS11_FUNCTION_INFO(C_EncapsulateKey)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* KEM mechanism */
  CK_OBJECT_HANDLE          hPublicKey,             /* recipient's public key */
  CK_ATTRIBUTE_PTR          pTemplate,              /* attributes of the shared key */
  CK_ULONG                  ulAttributeCount,       /* number of attributes */
  CK_BYTE_PTR               pCiphertext,            /* encapsulation out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulCiphertextLen,       /* in: capacity; out: encapsulation length */
  CK_OBJECT_HANDLE_PTR      phKey                   /* receives the shared key's handle */
);
#endif

/* C_DecapsulateKey: recover the shared secret key from an encapsulation. */
CK_PKCS11_FUNCTION_INFO(C_DecapsulateKey)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* KEM mechanism */
  CK_OBJECT_HANDLE          hPrivateKey,            /* recipient's private key */
  CK_ATTRIBUTE_PTR          pTemplate,              /* attributes of the shared key */
  CK_ULONG                  ulAttributeCount,       /* number of attributes */
  CK_BYTE_PTR               pCiphertext,            /* the encapsulation */
  CK_ULONG                  ulCiphertextLen,        /* its length */
  CK_OBJECT_HANDLE_PTR      phKey                   /* receives the shared key's handle */
);
#endif

/* ---- verification with the signature supplied up front ---- */

/* C_VerifySignatureInit: start a check, giving the signature first. */
CK_PKCS11_FUNCTION_INFO(C_VerifySignatureInit)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* algorithm and its parameters */
  CK_OBJECT_HANDLE          hKey,                   /* verification key */
  CK_BYTE_PTR               pSignature,             /* signature to check */
  CK_ULONG                  ulSignatureLen          /* its length */
);
#endif

/* C_VerifySignature: check the data of a single-part operation. */
CK_PKCS11_FUNCTION_INFO(C_VerifySignature)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pData,                  /* signed data */
  CK_ULONG                  ulDataLen               /* its length */
);
#endif

/* C_VerifySignatureUpdate: feed one more data part. */
CK_PKCS11_FUNCTION_INFO(C_VerifySignatureUpdate)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_BYTE_PTR               pPart,                  /* data part */
  CK_ULONG                  ulPartLen               /* its length */
);
#endif

/* C_VerifySignatureFinal: finish the multi-part check. */
CK_PKCS11_FUNCTION_INFO(C_VerifySignatureFinal)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession                /* the session */
);
#endif

/* ---- validation state ---- */

/* C_GetSessionValidationFlags: which validations the session's work met. */
CK_PKCS11_FUNCTION_INFO(C_GetSessionValidationFlags)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE                hSession,        /* the session */
  CK_SESSION_VALIDATION_FLAGS_TYPE type,            /* which set of flags (CKS_*) */
  CK_FLAGS_PTR                     pFlags           /* receives the flags */
);
#endif

/* ---- asynchronous operations ---- */

/* C_AsyncComplete: collect the result of a pending asynchronous call. */
CK_PKCS11_FUNCTION_INFO(C_AsyncComplete)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_UTF8CHAR_PTR           pFunctionName,          /* name of the function that went async */
  CK_ASYNC_DATA_PTR         pResult                 /* receives the outcome */
);
#endif

/* C_AsyncGetID: get an identifier for a pending asynchronous call. */
CK_PKCS11_FUNCTION_INFO(C_AsyncGetID)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_UTF8CHAR_PTR           pFunctionName,          /* name of the function that went async */
  CK_ULONG_PTR              pulID                   /* receives the identifier */
);
#endif

/* C_AsyncJoin: attach to an asynchronous call by its identifier. */
CK_PKCS11_FUNCTION_INFO(C_AsyncJoin)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_UTF8CHAR_PTR           pFunctionName,          /* name of the function that went async */
  CK_ULONG                  ulID,                   /* identifier from C_AsyncGetID */
  CK_BYTE_PTR               pData,                  /* buffer for the result */
  CK_ULONG                  ulData                  /* its length */
);
#endif

/* ---- authenticated key wrapping ---- */

/* C_WrapKeyAuthenticated: wrap a key with an AEAD mechanism. */
CK_PKCS11_FUNCTION_INFO(C_WrapKeyAuthenticated)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* wrapping mechanism */
  CK_OBJECT_HANDLE          hWrappingKey,           /* key that does the wrapping */
  CK_OBJECT_HANDLE          hKey,                   /* key being exported */
  CK_BYTE_PTR               pAssociatedData,        /* data bound to the wrapped blob */
  CK_ULONG                  ulAssociatedDataLen,    /* its length */
  CK_BYTE_PTR               pWrappedKey,            /* wrapped blob out, or NULL_PTR to size it */
  CK_ULONG_PTR              pulWrappedKeyLen        /* in: capacity; out: blob length */
);
#endif

/* C_UnwrapKeyAuthenticated: unwrap an AEAD-wrapped key as a new key object. */
CK_PKCS11_FUNCTION_INFO(C_UnwrapKeyAuthenticated)
#ifdef CK_NEED_ARG_LIST
(
  CK_SESSION_HANDLE         hSession,               /* the session */
  CK_MECHANISM_PTR          pMechanism,             /* unwrapping mechanism */
  CK_OBJECT_HANDLE          hUnwrappingKey,         /* key that does the unwrapping */
  CK_BYTE_PTR               pWrappedKey,            /* wrapped blob */
  CK_ULONG                  ulWrappedKeyLen,        /* its length */
  CK_ATTRIBUTE_PTR          pTemplate,              /* attributes of the imported key */
  CK_ULONG                  ulAttributeCount,       /* number of attributes */
  CK_BYTE_PTR               pAssociatedData,        /* data the blob was bound to */
  CK_ULONG                  ulAssociatedDataLen,    /* its length */
  CK_OBJECT_HANDLE_PTR      phKey                   /* receives the new key's handle */
);
#endif

#endif /* !CK_PKCS11F_OMIT_3_2 */
