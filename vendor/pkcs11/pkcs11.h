/*
 * pkcs11.h -- entry header of this project's PKCS #11 v3.2 (Cryptoki)
 * header set.
 *
 * Written for this project from the OASIS PKCS #11 Specification Version 3.2
 * (with its 2.40 / 3.0 / 3.1 base).  Names, values, structure layouts and
 * function signatures are the standard's; the text is our own.
 *
 * Include this file, not pkcs11t.h or pkcs11f.h directly.  It provides
 *   - everything in pkcs11t.h (types, structures, constants, callbacks,
 *     mechanism parameter structures);
 *   - a prototype `extern CK_RV C_Xxx(...)` for every Cryptoki function;
 *   - a pointer typedef `CK_C_Xxx` for every Cryptoki function;
 *   - the complete definitions of struct CK_FUNCTION_LIST (version 2.x
 *     slots), struct CK_FUNCTION_LIST_3_0 and struct CK_FUNCTION_LIST_3_2.
 *
 * BEFORE including this file the includer must define the five
 * platform macros below (the standard leaves them to the platform):
 *
 *   CK_PTR
 *       Pointer declarator, usually just `*`.
 *   CK_DECLARE_FUNCTION(returnType, name)
 *       Declares a library function, e.g.  `returnType name`
 *       (Windows: `returnType __declspec(dllimport) name`).
 *   CK_DECLARE_FUNCTION_POINTER(returnType, name)
 *       Declares a pointer to a library function, e.g.
 *       `returnType (* name)` (Windows: `returnType __declspec(dllimport) (* name)`).
 *   CK_CALLBACK_FUNCTION(returnType, name)
 *       Declares a pointer to an application callback, e.g.
 *       `returnType (* name)`.
 *   NULL_PTR
 *       The null pointer, usually `0` or `NULL`.
 *
 * On Windows, Cryptoki structures are packed to 1-byte alignment; wrap the
 * inclusion accordingly, for example
 *
 *     #pragma pack(push, cryptoki, 1)
 *     #include "pkcs11.h"
 *     #pragma pack(pop, cryptoki)
 *
 * Other platforms use the compiler's natural packing.
 */

#ifndef CK_PROJECT_PKCS11_H
#define CK_PROJECT_PKCS11_H 1

#ifdef __cplusplus
extern "C" {
#endif

/* All types, structures, constants and callbacks. */
#include "pkcs11t.h"

/* The section guards of pkcs11f.h are driven by this header alone. */
#if defined(CK_PKCS11F_OMIT_BASE) || defined(CK_PKCS11F_OMIT_3_0) || \
    defined(CK_PKCS11F_OMIT_3_2)
#error "CK_PKCS11F_OMIT_* must not be defined when including pkcs11.h"
#endif

/* Helper: glue two tokens together (used to form CK_C_Xxx from C_Xxx). */
#define CK_PKCS11_JOIN_(a, b) a ## b
#define CK_PKCS11_JOIN(a, b) CK_PKCS11_JOIN_(a, b)


/* ----------------------------------------------------------------------
 * Pass 1: function prototypes.
 *   extern CK_DECLARE_FUNCTION(CK_RV, C_Xxx)(args);
 * ---------------------------------------------------------------------- */
#define CK_NEED_ARG_LIST 1
#define CK_PKCS11_FUNCTION_INFO(name) \
  extern CK_DECLARE_FUNCTION(CK_RV, name)

#include "pkcs11f.h"

#undef CK_PKCS11_FUNCTION_INFO
#undef CK_NEED_ARG_LIST


/* ----------------------------------------------------------------------
 * Pass 2: function pointer types.
 *   typedef CK_DECLARE_FUNCTION_POINTER(CK_RV, CK_C_Xxx)(args);
 * ---------------------------------------------------------------------- */
#define CK_NEED_ARG_LIST 1
#define CK_PKCS11_FUNCTION_INFO(name) \
  typedef CK_DECLARE_FUNCTION_POINTER(CK_RV, CK_PKCS11_JOIN(CK_, name))

#include "pkcs11f.h"

#undef CK_PKCS11_FUNCTION_INFO
#undef CK_NEED_ARG_LIST


/* ----------------------------------------------------------------------
 * Pass 3: the function-list structures.  Each member is
 *   CK_C_Xxx C_Xxx;
 * CK_NEED_ARG_LIST stays undefined so only the member declarations are
 * produced; the section guards of pkcs11f.h select the slots.
 * ---------------------------------------------------------------------- */
#define CK_PKCS11_FUNCTION_INFO(name) \
  CK_PKCS11_JOIN(CK_, name) name;

/* Version 2.x list: the 68 original slots. */
#define CK_PKCS11F_OMIT_3_0
#define CK_PKCS11F_OMIT_3_2
struct CK_FUNCTION_LIST {
  CK_VERSION version;  /* Cryptoki version of this table */
#include "pkcs11f.h"
};
#undef CK_PKCS11F_OMIT_3_0
#undef CK_PKCS11F_OMIT_3_2

/* Version 3.0 list: the 2.x slots followed by the 3.0 additions. */
#define CK_PKCS11F_OMIT_3_2
struct CK_FUNCTION_LIST_3_0 {
  CK_VERSION version;  /* Cryptoki version of this table */
#include "pkcs11f.h"
};
#undef CK_PKCS11F_OMIT_3_2

/* Version 3.2 list: the 3.0 slots followed by the 3.2 additions. */
struct CK_FUNCTION_LIST_3_2 {
  CK_VERSION version;  /* Cryptoki version of this table */
#include "pkcs11f.h"
};

#undef CK_PKCS11_FUNCTION_INFO


/* Helper macros are private to this header. */
#undef CK_PKCS11_JOIN
#undef CK_PKCS11_JOIN_

#ifdef __cplusplus
}
#endif

#endif /* CK_PROJECT_PKCS11_H */
